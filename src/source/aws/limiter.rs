//! Client-side token buckets, one per API operation, so a burst of polls (a 10,000-task cluster,
//! several panes falling due at once) is spread out instead of tripping AWS's own throttling.
//! The rates follow the ECS and CloudWatch Logs documentation's defaults for the calls ecsmon
//! makes: a burst, then a sustained refill.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

#[derive(Debug)]
struct Bucket {
    tokens: f64,
    burst: f64,
    per_sec: f64,
    updated: Instant,
}

#[derive(Debug, Default)]
pub struct RateLimiter {
    buckets: Mutex<HashMap<&'static str, Bucket>>,
}

/// (burst, sustained per second) for an operation.
fn rate(op: &str) -> (f64, f64) {
    match op {
        "ecs:DescribeTasks" | "ecs:ListTasks" => (100.0, 40.0),
        "ecs:DescribeServices" | "ecs:ListServices" => (50.0, 20.0),
        "ecs:DescribeContainerInstances" | "ecs:ListContainerInstances" => (50.0, 20.0),
        "ecs:DescribeClusters" | "ecs:ListClusters" => (50.0, 20.0),
        "ecs:DescribeTaskDefinition" => (20.0, 5.0),
        "ec2:DescribeInstances" => (50.0, 20.0),
        // CloudWatch Logs allows 5 FilterLogEvents a second per account and region, shared with
        // every other tool reading logs there: never more than that, no burst above it.
        "logs:FilterLogEvents" => (5.0, 5.0),
        // A Live Tail session lasts until it is closed; a new one is needed only when the pane
        // changes, and an account may hold only a few at once.
        "logs:StartLiveTail" => (5.0, 1.0),
        // Operator actions, one confirmed request each: a few at once, never a runaway loop.
        "ecs:UpdateService"
        | "ecs:StopTask"
        | "ecs:UpdateContainerInstancesState"
        | "ecs:ExecuteCommand"
        | "ssm:StartSession" => (10.0, 1.0),
        _ => (20.0, 5.0),
    }
}

impl RateLimiter {
    /// Waits until `op` may be called. Never holds the lock across the wait.
    pub async fn acquire(&self, op: &'static str) {
        loop {
            let wait = {
                let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
                let now = Instant::now();
                let bucket = buckets.entry(op).or_insert_with(|| {
                    let (burst, per_sec) = rate(op);
                    Bucket {
                        tokens: burst,
                        burst,
                        per_sec,
                        updated: now,
                    }
                });
                let elapsed = now.duration_since(bucket.updated).as_secs_f64();
                bucket.tokens = (bucket.tokens + elapsed * bucket.per_sec).min(bucket.burst);
                bucket.updated = now;
                if bucket.tokens >= 1.0 {
                    bucket.tokens -= 1.0;
                    return;
                }
                Duration::from_secs_f64((1.0 - bucket.tokens) / bucket.per_sec)
            };
            tokio::time::sleep(wait).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_burst_passes_then_calls_are_spaced_at_the_sustained_rate() {
        let limiter = RateLimiter::default();
        let start = tokio::time::Instant::now();
        for _ in 0..20 {
            limiter.acquire("ecs:DescribeTaskDefinition").await;
        }
        assert_eq!(start.elapsed(), Duration::ZERO, "the burst is free");
        for _ in 0..5 {
            limiter.acquire("ecs:DescribeTaskDefinition").await;
        }
        // Five more at 5 per second take about a second of (virtual) time.
        let waited = start.elapsed();
        assert!(waited >= Duration::from_millis(900), "{waited:?}");
        assert!(waited <= Duration::from_millis(1100), "{waited:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn operations_have_separate_buckets() {
        let limiter = RateLimiter::default();
        for _ in 0..20 {
            limiter.acquire("ecs:DescribeTaskDefinition").await;
        }
        let start = tokio::time::Instant::now();
        limiter.acquire("ecs:ListTasks").await;
        assert_eq!(start.elapsed(), Duration::ZERO);
    }
}
