//! Connecting one context — a (profile, region) pair — to its own source: its own SDK
//! configuration, clients, budgets and caches, nothing shared with the other contexts (AWS's
//! limits are per account and region, and one context's failure must stay its own).
//!
//! Assume-role profiles (`role_arn` with `source_profile` or SSO) go through the SDK's own
//! profile chain, as the AWS CLI's do: ecsmon never calls AssumeRole itself. That chain's own
//! STS client takes its endpoint from `AWS_ENDPOINT_URL` (or `endpoint_url` in the profile), not
//! from the `endpoint_url` passed here: against an emulator, an assume-role profile needs the
//! variable (which clap also reads as `--endpoint-url`).

use crate::model::{Context, WantedContext};
use crate::source::{ErrorKind, SourceError};

use super::{AwsSettings, AwsSource, connect};

/// One context's live source, with the region it resolved to.
pub struct ContextSource {
    pub context: Context,
    pub source: AwsSource,
}

/// Connects one context: the profile's chain (keys, SSO, assume-role...), the region asked for
/// or else the profile's own, and `endpoint_url` (`--endpoint-url`) if any. Fails, in words,
/// for what no call could get past: a profile the AWS config files do not have, no region.
/// Credentials that fail later (expired, denied) fail that context's calls only.
pub async fn connect_context(
    wanted: &WantedContext,
    endpoint_url: Option<&str>,
) -> Result<ContextSource, SourceError> {
    if let Some(profile) = &wanted.profile {
        ensure_profile(profile).await?;
    }
    let source = connect(AwsSettings::for_context(wanted, endpoint_url)).await?;
    let context = Context {
        profile: wanted.profile.clone(),
        region: source.region.clone(),
    };
    Ok(ContextSource { context, source })
}

impl AwsSettings {
    /// What one context connects with: the same settings a single-context run builds from
    /// `--profile`, `--region` and `--endpoint-url`.
    pub fn for_context(wanted: &WantedContext, endpoint_url: Option<&str>) -> AwsSettings {
        AwsSettings {
            profile: wanted.profile.clone(),
            region: wanted.region.clone(),
            endpoint_url: endpoint_url.map(str::to_string),
        }
    }
}

/// Every context at once; each answers for itself, in the order asked.
pub async fn connect_contexts(
    wanted: &[WantedContext],
    endpoint_url: Option<&str>,
) -> Vec<Result<ContextSource, SourceError>> {
    futures::future::join_all(wanted.iter().map(|w| connect_context(w, endpoint_url))).await
}

/// The SDK would take an unknown profile silently and fail later with a vaguer "no region" or
/// "no credentials": name the mistake instead.
async fn ensure_profile(profile: &str) -> Result<(), SourceError> {
    let fs = aws_types::os_shim_internal::Fs::real();
    let env = aws_types::os_shim_internal::Env::real();
    match aws_config::profile::load(&fs, &env, &Default::default(), None).await {
        Ok(set) if set.get_profile(profile).is_some() => Ok(()),
        Ok(_) => Err(SourceError::new(
            ErrorKind::Credentials,
            format!(
                "no profile `{profile}` in your AWS config files (~/.aws/config, \
                 ~/.aws/credentials, or AWS_CONFIG_FILE): check the name"
            ),
        )),
        // Unreadable files: let the SDK's own chain say what it finds.
        Err(e) => {
            tracing::warn!("cannot read AWS profiles: {e}");
            Ok(())
        }
    }
}
