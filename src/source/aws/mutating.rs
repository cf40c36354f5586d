//! Calls that change the fleet are never retried blindly: a retried `forceNewDeployment` is a
//! second deployment, a retried `ExecuteCommand` an orphan session. Only an answer that proves
//! the request was not carried out — throttling — is sent again, by `ops` itself once the
//! service's budget allows (the SDK never retries throttling: `stats::ThrottleFeedback`); a
//! timeout, a dropped connection, an unreadable answer or a 5xx ends the call, and its outcome
//! is unknown ([`unknown_because`]).
//!
//! The clients keep the SDK's standard retries for reads; each mutating call overrides them for
//! itself (`.customize().config_override(mutating::ecs())`), so the SDK retries none of its
//! failures.

use aws_sdk_ecs::error::SdkError;
use aws_smithy_runtime_api::client::interceptors::context::InterceptorContext;
use aws_smithy_runtime_api::client::retries::classifiers::{
    ClassifyRetry, RetryAction, RetryClassifierPriority, RetryReason,
};
use aws_smithy_types::error::display::DisplayErrorContext;
use aws_smithy_types::retry::ErrorKind;

/// Runs after the SDK's own classifiers and forbids every retry but throttling's (which
/// `stats::ThrottleFeedback` forbids in turn, leaving it to `ops`).
#[derive(Debug, Clone, Copy)]
pub struct OnlyThrottling;

impl ClassifyRetry for OnlyThrottling {
    fn classify_retry(&self, ctx: &InterceptorContext) -> RetryAction {
        self.classify_retry_v2(ctx, &RetryAction::NoActionIndicated)
    }

    fn classify_retry_v2(&self, ctx: &InterceptorContext, previous: &RetryAction) -> RetryAction {
        // A bare 429 (a proxy or gateway in front of AWS) refused the request too.
        if ctx.response().is_some_and(|r| r.status().as_u16() == 429) {
            return RetryAction::throttling_error();
        }
        match previous {
            RetryAction::RetryIndicated(RetryReason::RetryableError {
                kind: ErrorKind::ThrottlingError,
                ..
            }) => RetryAction::NoActionIndicated,
            RetryAction::RetryIndicated(_) => RetryAction::RetryForbidden,
            _ => RetryAction::NoActionIndicated,
        }
    }

    fn name(&self) -> &'static str {
        "ecsmon: mutating calls retry throttling only"
    }

    fn priority(&self) -> RetryClassifierPriority {
        // After every classifier the SDK installs (HTTP status, AWS error codes, modeled
        // retryable errors, transient errors), so its verdict is the last word.
        RetryClassifierPriority::run_after(RetryClassifierPriority::run_after(
            RetryClassifierPriority::transient_error_classifier(),
        ))
    }
}

/// The per-call override for an ECS mutating call.
pub fn ecs() -> aws_sdk_ecs::config::Builder {
    aws_sdk_ecs::config::Builder::default().retry_classifier(OnlyThrottling)
}

/// The per-call override for an SSM session call.
pub fn ssm() -> aws_sdk_ssm::config::Builder {
    aws_sdk_ssm::config::Builder::default().retry_classifier(OnlyThrottling)
}

/// Why a failed mutating call may have been carried out anyway, if it may: the request left
/// (or may have left) and no answer saying otherwise came back — a timeout, a connection lost
/// after sending, an answer that could not be read, or a server error. `None`: a refused
/// connection, a request never built, or a 4xx answer: nothing happened.
pub fn unknown_because<E, R>(e: &SdkError<E, R>) -> Option<&'static str>
where
    E: std::error::Error + 'static,
    R: std::fmt::Debug + 'static,
{
    match e {
        SdkError::TimeoutError(_) => Some("no answer came in time"),
        SdkError::ResponseError(_) => Some("its answer could not be read"),
        SdkError::DispatchFailure(f) => {
            // The HTTP client names a failure to connect `Connect`: nothing was sent.
            let chain = DisplayErrorContext(e).to_string();
            let sent =
                (f.is_io() || f.is_timeout() || f.is_other()) && !chain.contains("(Connect)");
            sent.then_some(if f.is_timeout() {
                "no answer came in time"
            } else {
                "the connection was lost before the answer"
            })
        }
        SdkError::ServiceError(_) => {
            let response = e.raw_response().map(|r| r as &dyn std::any::Any);
            response
                .and_then(|r| r.downcast_ref::<aws_smithy_runtime_api::http::Response>())
                .is_some_and(|r| r.status().is_server_error())
                .then_some("AWS answered with a server error")
        }
        _ => None,
    }
}
