//! A count of AWS calls by operation, fed by an SDK interceptor so that every HTTP attempt is
//! seen — paginator pages and retries included. The `:stats` view and the benchmarks read it.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use aws_sdk_ecs::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::context::BeforeTransmitInterceptorContextRef;
use aws_smithy_runtime_api::client::orchestrator::Metadata;

use crate::source::CallStat;

#[derive(Debug, Clone, Default)]
pub struct CallStats {
    inner: Arc<Mutex<BTreeMap<String, CallStat>>>,
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

    pub fn snapshot(&self) -> Vec<CallStat> {
        let map = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        map.values().cloned().collect()
    }

    pub fn interceptor(&self) -> CountCalls {
        CountCalls {
            stats: self.clone(),
        }
    }
}

/// Counts each attempt as `service:Operation`, e.g. `ecs:ListTasks`.
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
            let op = format!("{}:{}", service_prefix(meta.service()), meta.name());
            self.stats.record(op, |s| s.calls += 1);
        }
        Ok(())
    }
}

/// The IAM-style prefix operators know (`ecs`, `ec2`, `sts`) from the SDK's service name.
fn service_prefix(service: &str) -> String {
    match service {
        "ECS" => "ecs".into(),
        "EC2" => "ec2".into(),
        "STS" => "sts".into(),
        "CloudWatch" => "cloudwatch".into(),
        "CloudWatch Logs" => "logs".into(),
        "Elastic Load Balancing v2" => "elasticloadbalancing".into(),
        "Application Auto Scaling" => "application-autoscaling".into(),
        "SSM" => "ssm".into(),
        other => other.to_lowercase().replace(' ', ""),
    }
}
