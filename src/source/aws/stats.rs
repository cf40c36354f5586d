//! What the SDK tells us about each HTTP attempt, paginator pages and retries included: a count
//! by operation for `:stats` and the benchmarks, and the feedback the per-service budgets
//! ([`RateLimiter`]) live on — which answers were throttling, and which requests the SDK sent
//! again by itself.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use aws_sdk_ecs::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::context::{
    BeforeTransmitInterceptorContextRef, InterceptorContext,
};
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::retries::RequestAttempts;
use aws_smithy_runtime_api::client::retries::classifiers::{
    ClassifyRetry, RetryAction, RetryClassifierPriority, RetryReason,
};
use aws_smithy_types::retry::ErrorKind;

use super::limiter::{Answer, RateLimiter};
use crate::source::{CallReport, CallStat};

#[derive(Debug, Clone, Default)]
pub struct CallStats {
    inner: Arc<Mutex<BTreeMap<String, CallStat>>>,
    /// The per-service budgets every client of the source feeds and every poller draws on.
    budget: Arc<RateLimiter>,
}

impl CallStats {
    fn record(&self, op: String, f: impl FnOnce(&mut CallStat)) {
        let mut map = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let stat = map.entry(op.clone()).or_insert_with(|| CallStat {
            operation: op,
            ..CallStat::default()
        });
        f(stat);
    }

    /// Counts a failure of `op` (after retries), and whether it was throttling.
    pub fn failed(&self, op: &str, throttled: bool) {
        self.record(op.to_string(), |s| {
            s.errors += 1;
            if throttled {
                s.throttled += 1;
            }
        });
    }

    /// Calls by operation and the budget of each service.
    pub fn snapshot(&self) -> CallReport {
        let map = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        CallReport {
            calls: map.values().cloned().collect(),
            budgets: self.budget.snapshot(),
        }
    }

    /// The budgets fed by this source's clients.
    pub(super) fn budget(&self) -> Arc<RateLimiter> {
        Arc::clone(&self.budget)
    }

    pub fn interceptor(&self) -> CountCalls {
        CountCalls {
            stats: self.clone(),
        }
    }

    /// The retry classifier of a client of `service` (`ecs`, `logs`…): see [`ThrottleFeedback`].
    pub fn feedback(&self, service: &'static str) -> ThrottleFeedback {
        ThrottleFeedback {
            service,
            budget: self.budget(),
        }
    }
}

/// Counts each attempt as `service:Operation`, e.g. `ecs:ListTasks`, and charges the SDK's own
/// retries to the service's budget.
#[derive(Debug)]
pub struct CountCalls {
    stats: CallStats,
}

impl Intercept for CountCalls {
    fn name(&self) -> &'static str {
        "ecsmon::CountCalls"
    }

    fn read_before_transmit(
        &self,
        _context: &BeforeTransmitInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if let Some(meta) = cfg.load::<Metadata>() {
            let service = service_prefix(meta.service());
            let op = format!("{service}:{}", meta.name());
            self.stats.record(op, |s| s.calls += 1);
            // The first attempt took its token in `RateLimiter::acquire`.
            if cfg
                .load::<RequestAttempts>()
                .is_some_and(|a| a.attempts() > 1)
            {
                self.stats.budget.charge(service);
            }
        }
        Ok(())
    }
}

/// Runs after the SDK's own retry classifiers and reads their verdict on each attempt: a
/// throttling answer (by the SDK's list of throttling codes, or a bare HTTP 429) is reported to
/// the service's budget and is **not** retried by the SDK — the budget slows down instead, and
/// the poll comes again at the pace it allows. A good answer is reported too (the budget
/// grows back on them); other failures are left to the SDK's retries.
#[derive(Debug)]
pub struct ThrottleFeedback {
    service: &'static str,
    budget: Arc<RateLimiter>,
}

impl ClassifyRetry for ThrottleFeedback {
    fn classify_retry(&self, _ctx: &InterceptorContext) -> RetryAction {
        RetryAction::NoActionIndicated
    }

    fn classify_retry_v2(&self, ctx: &InterceptorContext, previous: &RetryAction) -> RetryAction {
        let throttling = matches!(
            previous,
            RetryAction::RetryIndicated(RetryReason::RetryableError {
                kind: ErrorKind::ThrottlingError,
                ..
            })
        ) || ctx
            .response()
            .is_some_and(|r| r.status().as_u16() == super::errors::TOO_MANY_REQUESTS);
        if throttling {
            self.budget.answered(self.service, Answer::Throttled);
            RetryAction::RetryForbidden
        } else {
            let answer = if ctx.is_failed() {
                Answer::Failed
            } else {
                Answer::Succeeded
            };
            self.budget.answered(self.service, answer);
            RetryAction::NoActionIndicated
        }
    }

    fn name(&self) -> &'static str {
        "ecsmon::ThrottleFeedback"
    }

    fn priority(&self) -> RetryClassifierPriority {
        // After the SDK's own (HTTP status, modeled, transient and error code) classifiers.
        RetryClassifierPriority::run_after(RetryClassifierPriority::transient_error_classifier())
    }
}

/// The IAM-style prefix operators know (`ecs`, `ec2`, `sts`) from the SDK's service name.
pub fn service_prefix(service: &str) -> &'static str {
    match service {
        "ECS" => "ecs",
        "EC2" => "ec2",
        "STS" => "sts",
        "CloudWatch" => "cloudwatch",
        "CloudWatch Logs" => "logs",
        "Elastic Load Balancing v2" => "elasticloadbalancing",
        "Application Auto Scaling" => "application-autoscaling",
        "SSM" => "ssm",
        _ => "aws",
    }
}
