//! A context is one (profile, region) pair: where a console looks. Several can be watched at
//! once (the fleet view); one is what ecsmon has always watched.

use std::fmt;

/// One (profile, region) pair, its region known (given, or the profile's own).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Context {
    /// `None`: the default credential chain (environment, `[default]`, instance role...).
    pub profile: Option<String>,
    pub region: String,
}

/// A context as asked for, before its region is known: `None` is the profile's own region
/// (`region = …` in ~/.aws/config), which the SDK resolves when the context connects.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct WantedContext {
    pub profile: Option<String>,
    pub region: Option<String>,
}

impl WantedContext {
    pub fn new(profile: Option<&str>, region: Option<&str>) -> WantedContext {
        WantedContext {
            profile: profile.map(str::to_string),
            region: region.map(str::to_string),
        }
    }
}

impl fmt::Display for WantedContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let profile = self.profile.as_deref().unwrap_or(DEFAULT_PROFILE_LABEL);
        match &self.region {
            Some(region) => write!(f, "{profile} · {region}"),
            None => write!(f, "{profile} · its region"),
        }
    }
}

/// A short id that stays the same for the same (profile, region) on every run and machine: for
/// keys, finding ids and file names, where the readable label is too long or has spaces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ContextId(u64);

impl fmt::Display for ContextId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // 8 hex digits: short enough for a column, and collisions among an operator's dozens
        // of contexts are out of the question (one in 4 billion per pair).
        write!(f, "{:08x}", self.0 >> 32)
    }
}

/// How the default credential chain is named where a profile's name would be.
pub const DEFAULT_PROFILE_LABEL: &str = "default";

impl Context {
    pub fn new(profile: Option<&str>, region: &str) -> Context {
        Context {
            profile: profile.map(str::to_string),
            region: region.to_string(),
        }
    }

    pub fn id(&self) -> ContextId {
        // The profile's presence is a byte of its own, so `None` and a profile named like the
        // label never share an id; 0 cannot occur in either name.
        let (tag, name): (&[u8], &[u8]) = match &self.profile {
            Some(p) => (b"p", p.as_bytes()),
            None => (b"d", b""),
        };
        ContextId(crate::model::hash::stable(&[
            tag,
            name,
            b"\0",
            self.region.as_bytes(),
        ]))
    }

    /// The profile's name, or `default` for the default credential chain.
    pub fn profile_label(&self) -> &str {
        self.profile.as_deref().unwrap_or(DEFAULT_PROFILE_LABEL)
    }

    /// `prod · 123456789012 · eu-west-1` once STS has said which account the profile reaches,
    /// `prod · eu-west-1` before.
    pub fn title(&self, account: Option<&str>) -> String {
        match account.filter(|a| !a.is_empty()) {
            Some(account) => format!("{} · {account} · {}", self.profile_label(), self.region),
            None => self.to_string(),
        }
    }
}

/// In the fleet view a cluster is named with its context, `web@prod · eu-west-1`, so two
/// contexts' clusters of one name stay apart wherever the console keys by cluster (rows,
/// findings, the navigation). ECS cluster names have no `@`: the first one splits the two.
pub fn qualify(cluster: &str, context: &Context) -> String {
    format!("{cluster}@{context}")
}

/// The cluster name and the context label of a name from [`qualify`]; a plain name has none.
pub fn unqualify(name: &str) -> (&str, Option<&str>) {
    match name.split_once('@') {
        Some((cluster, context)) => (cluster, Some(context)),
        None => (name, None),
    }
}

impl fmt::Display for Context {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} · {}", self.profile_label(), self.region)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_qualified_cluster_name_splits_back_into_its_parts() {
        let prod = Context::new(Some("prod"), "eu-west-1");
        let name = qualify("web", &prod);
        assert_eq!(name, "web@prod · eu-west-1");
        assert_eq!(unqualify(&name), ("web", Some("prod · eu-west-1")));
        assert_eq!(unqualify("web"), ("web", None));
        // A profile with an `@` in its name still splits at the cluster's end.
        let odd = Context::new(Some("a@b"), "us-east-1");
        assert_eq!(
            unqualify(&qualify("api", &odd)),
            ("api", Some("a@b · us-east-1"))
        );
    }

    #[test]
    fn the_title_names_the_account_once_known() {
        let prod = Context::new(Some("prod"), "eu-west-1");
        assert_eq!(prod.title(None), "prod · eu-west-1");
        assert_eq!(
            prod.title(Some("123456789012")),
            "prod · 123456789012 · eu-west-1"
        );
        assert_eq!(prod.title(Some("")), "prod · eu-west-1");
        let default = Context::new(None, "us-east-1");
        assert_eq!(default.to_string(), "default · us-east-1");
    }

    #[test]
    fn ids_are_short_stable_and_tell_contexts_apart() {
        let prod = Context::new(Some("prod"), "eu-west-1");
        assert_eq!(prod.id(), Context::new(Some("prod"), "eu-west-1").id());
        assert_eq!(prod.id().to_string().len(), 8);
        // Pinned: an id must not change between releases (it may name files and findings).
        assert_eq!(prod.id().to_string(), ID_OF_PROD_EU_WEST_1);
        let others = [
            Context::new(Some("prod"), "us-east-1"),
            Context::new(Some("staging"), "eu-west-1"),
            Context::new(None, "eu-west-1"),
            Context::new(Some("default"), "eu-west-1"),
            // The separator keeps `a` + `b-c-1` apart from `ab` + `-c-1`-like splits.
            Context::new(Some("prode"), "u-west-1"),
        ];
        for other in &others {
            assert_ne!(prod.id(), other.id(), "{other}");
        }
        assert_ne!(others[2].id(), others[3].id());
    }

    const ID_OF_PROD_EU_WEST_1: &str = "dff5f244";
}
