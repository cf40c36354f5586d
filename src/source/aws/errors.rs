//! Turns SDK errors into one plain sentence an operator can act on.

use aws_sdk_ecs::error::{ProvideErrorMetadata, SdkError};
use aws_smithy_types::error::display::DisplayErrorContext;

use crate::source::{ErrorKind, SourceError};

/// What the message may mention besides the error itself.
#[derive(Debug, Clone, Default)]
pub struct ErrorContext {
    /// The host requests go to (`ecs.eu-west-3.amazonaws.com`, or the custom endpoint's).
    pub host: String,
    pub profile: Option<String>,
}

/// `op` is `ecs:ListTasks`-style; `resource` names what was asked for (`cluster prod`).
pub fn explain<E, R>(
    op: &str,
    resource: &str,
    err: &SdkError<E, R>,
    ctx: &ErrorContext,
) -> SourceError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug + 'static,
{
    let chain = DisplayErrorContext(err).to_string();
    tracing::warn!(op, resource, error = %chain, "AWS call failed");
    let service = op.split(':').next().unwrap_or("AWS").to_uppercase();
    if too_many_requests(err) {
        return SourceError::new(ErrorKind::Throttled, format!("throttled by {service}"));
    }
    match err {
        SdkError::ServiceError(e) => {
            // Both come from the server: never drawn raw.
            let code = crate::sanitize::clean(e.err().code().unwrap_or("Unknown"));
            let message = crate::sanitize::clean(e.err().message().unwrap_or_default());
            from_code(&code, &message, op, resource, &service, ctx)
        }
        SdkError::TimeoutError(_) => SourceError::new(
            ErrorKind::Network,
            format!("no answer from {} in time", ctx.host),
        ),
        SdkError::DispatchFailure(f) => {
            if let Some(creds) = credentials_problem(&chain, ctx) {
                creds
            } else if f.is_timeout() {
                SourceError::new(
                    ErrorKind::Network,
                    format!("no answer from {} in time", ctx.host),
                )
            } else {
                SourceError::new(ErrorKind::Network, format!("cannot reach {}", ctx.host))
            }
        }
        SdkError::ResponseError(_) => SourceError::new(
            ErrorKind::Service,
            format!("{service} sent an answer ecsmon could not read ({op})"),
        ),
        _ => credentials_problem(&chain, ctx).unwrap_or_else(|| {
            let chain = crate::sanitize::clean(&chain);
            SourceError::new(ErrorKind::Service, format!("{op} failed: {chain}"))
        }),
    }
}

/// HTTP 429 Too Many Requests.
pub const TOO_MANY_REQUESTS: u16 = 429;

/// HTTP 429: throttling, whatever the body says. A proxy or gateway in front of the endpoint
/// sends it with no AWS error code, which the SDK cannot parse into one.
fn too_many_requests<E, R: 'static>(err: &SdkError<E, R>) -> bool {
    let response = err.raw_response().map(|r| r as &dyn std::any::Any);
    response
        .and_then(|r| r.downcast_ref::<aws_smithy_runtime_api::http::Response>())
        .is_some_and(|r| r.status().as_u16() == TOO_MANY_REQUESTS)
}

fn from_code(
    code: &str,
    message: &str,
    op: &str,
    resource: &str,
    service: &str,
    ctx: &ErrorContext,
) -> SourceError {
    match code {
        // Never retried by the SDK (`stats::ThrottleFeedback`): the service's budget has
        // halved its rate, and the poll comes again at that pace.
        "ThrottlingException"
        | "Throttling"
        | "RequestLimitExceeded"
        | "TooManyRequestsException" => {
            SourceError::new(ErrorKind::Throttled, format!("throttled by {service}"))
        }
        "AccessDeniedException"
        | "AccessDenied"
        | "UnauthorizedOperation"
        | "AuthorizationError" => SourceError::new(
            ErrorKind::AccessDenied,
            format!("AccessDenied for {op} on {resource}"),
        ),
        "ExpiredTokenException" | "ExpiredToken" | "RequestExpired" => expired(ctx),
        "UnrecognizedClientException"
        | "InvalidClientTokenId"
        | "InvalidSignatureException"
        | "SignatureDoesNotMatch"
        | "AuthFailure" => SourceError::new(
            ErrorKind::Credentials,
            format!("AWS rejected the credentials ({code}): check the access key or profile"),
        ),
        "ClusterNotFoundException" => {
            SourceError::not_found(format!("{resource} no longer exists"))
        }
        "ServiceNotFoundException" => {
            SourceError::not_found(format!("{resource} no longer exists"))
        }
        "ResourceNotFoundException" if op.starts_with("logs:") => logs_not_found(message, resource),
        "ServerException" | "InternalFailure" | "InternalError" | "ServiceUnavailable"
        | "Unavailable" => SourceError::new(
            ErrorKind::Service,
            format!("{service} had an internal error ({code})"),
        ),
        _ if message.is_empty() => SourceError::new(ErrorKind::Service, format!("{op}: {code}")),
        _ => SourceError::new(ErrorKind::Service, format!("{op}: {code}: {message}")),
    }
}

/// CloudWatch Logs says what is missing only in its message ("The specified log stream does not
/// exist."). `resource` is `log group <name>`, or `log stream <name> in <group>` when the caller
/// has singled out the stream.
fn logs_not_found(message: &str, resource: &str) -> SourceError {
    if message.to_lowercase().contains("log stream") {
        // awslogs creates a container's stream when the container starts.
        SourceError::not_found(format!(
            "{resource} does not exist yet: the container has not started logging"
        ))
    } else {
        SourceError::not_found(format!(
            "{resource} does not exist (check awslogs-group in the task definition)"
        ))
    }
}

/// The credential chain's failures, worded by what the operator should do.
fn credentials_problem(chain: &str, ctx: &ErrorContext) -> Option<SourceError> {
    let lower = chain.to_lowercase();
    let profile = ctx.profile.as_deref().unwrap_or("default");
    if lower.contains("sso") && (lower.contains("expired") || lower.contains("token")) {
        return Some(SourceError::new(
            ErrorKind::Credentials,
            format!("your SSO session has expired: run `aws sso login --profile {profile}`"),
        ));
    }
    if lower.contains("expired") {
        return Some(expired(ctx));
    }
    if lower.contains("credential") {
        return Some(SourceError::new(
            ErrorKind::Credentials,
            format!(
                "no AWS credentials found: looked for AWS_ACCESS_KEY_ID in the environment, \
                 profile `{profile}` in ~/.aws/config and ~/.aws/credentials (keys, SSO, \
                 assume-role), and container and instance roles"
            ),
        ));
    }
    None
}

fn expired(ctx: &ErrorContext) -> SourceError {
    let hint = match &ctx.profile {
        Some(p) => format!("refresh them (for SSO: `aws sso login --profile {p}`)"),
        None => "refresh them and press r".into(),
    };
    SourceError::new(
        ErrorKind::Credentials,
        format!("your AWS credentials have expired: {hint}"),
    )
}
