/// Who and where the console is talking to; shown in the header so nobody acts in the wrong account.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Identity {
    /// `demo: default`, `profile prod`, `env credentials` …
    pub source: String,
    pub region: String,
    pub account: String,
    /// The caller ARN's readable tail, e.g. `assumed-role/Admin/alice`.
    pub principal: String,
}
