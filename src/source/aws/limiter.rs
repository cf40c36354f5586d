//! One request budget per AWS service (ECS, EC2, CloudWatch, Logs, ELB, SSM, STS, Auto
//! Scaling), shared by every poller, so the console never adds load to an account that AWS is
//! already throttling — other tools and deploy pipelines share the same limits.
//!
//! Each budget is a token bucket whose rate follows AIMD, like TCP's congestion window: a
//! throttling answer halves the rate allowed to that service (down to a floor), every answer
//! that is not throttled raises it by a fixed step, back up to the ceiling. Requests wait for a
//! token; the poll scheduler does not send a second poll of a query while the first is waiting
//! (`crate::poll::PollBook`), so waiting polls are coalesced instead of queued.
//!
//! A few operations also have a fixed cap of their own, from the AWS documentation's defaults
//! (CloudWatch Logs allows 5 `FilterLogEvents` a second per account, for instance).

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

use crate::source::BudgetStat;

/// The lowest rate a budget falls to: one request every 5 s keeps probing, so the end of the
/// throttling is noticed within seconds, while adding next to nothing to the account's load.
pub const FLOOR_PER_SEC: f64 = 0.2;
/// A budget holds at most this many seconds of its rate as a burst (and always one request).
const BURST_SECS: f64 = 2.5;
/// Throttling answers this close together are one signal: requests sent together (describe
/// batches, pages) are answered together, and must not cut the rate once each.
const CUT_EVERY: Duration = Duration::from_secs(1);
/// Each unthrottled answer raises the rate by this share of the ceiling.
const RAISE_SHARE: f64 = 0.05;
/// The window of the throttled share `:stats` shows.
const RECENT: Duration = Duration::from_secs(60);
/// A waiting request looks again at least this often: the rate may have risen meanwhile.
const RECHECK: Duration = Duration::from_secs(1);

/// Requests per second allowed to a service when nothing is throttled.
fn ceiling(service: &str) -> f64 {
    match service {
        "ecs" | "ec2" => 20.0,
        "cloudwatch" | "logs" | "elasticloadbalancing" => 10.0,
        _ => 5.0, // sts, ssm, application-autoscaling: a few calls a minute at most
    }
}

/// (burst, sustained per second) of the operations with a documented cap of their own.
fn op_cap(op: &str) -> Option<(f64, f64)> {
    match op {
        "ecs:DescribeTaskDefinition" => Some((20.0, 5.0)),
        // Shared with every other tool reading logs in the account and region: never more
        // than that, no burst above it.
        "logs:FilterLogEvents" => Some((5.0, 5.0)),
        // A Live Tail session lasts until it is closed; an account may hold only a few at once.
        "logs:StartLiveTail" => Some((5.0, 1.0)),
        // Operator actions, one confirmed request each: a few at once, never a runaway loop.
        "ecs:UpdateService"
        | "ecs:StopTask"
        | "ecs:UpdateContainerInstancesState"
        | "ecs:ExecuteCommand"
        | "ssm:StartSession" => Some((10.0, 1.0)),
        _ => None,
    }
}

/// The IAM-style service prefix of an `ecs:ListTasks`-style operation.
pub fn service_of(op: &'static str) -> &'static str {
    op.split(':').next().unwrap_or(op)
}

/// How an attempt ended, as far as the budget cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    /// A good answer: the service keeps up with this rate.
    Succeeded,
    /// Throttling: the account's limit is reached, by us or by others sharing it.
    Throttled,
    /// A 5xx, a timeout, a dropped connection: nothing learned about the rate.
    Failed,
}

#[derive(Debug)]
struct Bucket {
    tokens: f64,
    burst: f64,
    per_sec: f64,
    updated: Instant,
}

impl Bucket {
    fn new(burst: f64, per_sec: f64, now: Instant) -> Bucket {
        Bucket {
            tokens: burst,
            burst,
            per_sec,
            updated: now,
        }
    }

    fn refill(&mut self, now: Instant) {
        let elapsed = now.duration_since(self.updated).as_secs_f64();
        self.tokens = (self.tokens + elapsed * self.per_sec).min(self.burst);
        self.updated = now;
    }

    /// How long until a whole token is there (zero: now).
    fn wait(&self) -> Duration {
        if self.tokens >= 1.0 {
            Duration::ZERO
        } else {
            Duration::from_secs_f64((1.0 - self.tokens) / self.per_sec)
        }
    }
}

/// One service's budget: a bucket whose rate moves between the floor and the ceiling.
#[derive(Debug)]
struct Budget {
    bucket: Bucket,
    ceiling: f64,
    last_cut: Option<Instant>,
    /// When each answer of the last minute came, and whether it was throttling.
    recent: VecDeque<(Instant, bool)>,
}

impl Budget {
    fn new(service: &str, now: Instant) -> Budget {
        let ceiling = ceiling(service);
        Budget {
            bucket: Bucket::new(burst(ceiling), ceiling, now),
            ceiling,
            last_cut: None,
            recent: VecDeque::new(),
        }
    }

    fn set_rate(&mut self, rate: f64) {
        let rate = rate.clamp(FLOOR_PER_SEC, self.ceiling);
        self.bucket.per_sec = rate;
        self.bucket.burst = burst(rate);
        self.bucket.tokens = self.bucket.tokens.min(self.bucket.burst);
    }

    fn answered(&mut self, answer: Answer, now: Instant) {
        self.bucket.refill(now);
        self.recent.push_back((now, answer == Answer::Throttled));
        self.forget_before(now);
        match answer {
            Answer::Throttled => {
                if self
                    .last_cut
                    .is_none_or(|at| now.duration_since(at) >= CUT_EVERY)
                {
                    self.last_cut = Some(now);
                    self.set_rate(self.bucket.per_sec / 2.0);
                }
            }
            Answer::Succeeded => {
                self.set_rate(self.bucket.per_sec + self.ceiling * RAISE_SHARE);
            }
            Answer::Failed => {}
        }
    }

    fn forget_before(&mut self, now: Instant) {
        while self
            .recent
            .front()
            .is_some_and(|(at, _)| now.duration_since(*at) > RECENT)
        {
            self.recent.pop_front();
        }
    }
}

fn burst(rate: f64) -> f64 {
    (rate * BURST_SECS).max(1.0)
}

#[derive(Debug, Default)]
struct Books {
    services: HashMap<&'static str, Budget>,
    ops: HashMap<&'static str, Bucket>,
}

/// The budgets of every service, shared by every client and poller of one source.
#[derive(Debug, Default)]
pub struct RateLimiter {
    books: Mutex<Books>,
}

impl RateLimiter {
    fn books(&self) -> std::sync::MutexGuard<'_, Books> {
        self.books.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Waits until `op` may be sent: a token of its service's budget (and of its own cap, if
    /// it has one). Never holds the lock across the wait.
    pub async fn acquire(&self, op: &'static str) {
        let service = service_of(op);
        loop {
            let wait = {
                let mut books = self.books();
                let now = Instant::now();
                let Books { services, ops } = &mut *books;
                let budget = services
                    .entry(service)
                    .or_insert_with(|| Budget::new(service, now));
                budget.bucket.refill(now);
                let mut wait = budget.bucket.wait();
                let cap = op_cap(op).map(|(burst, per_sec)| {
                    let bucket = ops
                        .entry(op)
                        .or_insert_with(|| Bucket::new(burst, per_sec, now));
                    bucket.refill(now);
                    bucket
                });
                if let Some(cap) = &cap {
                    wait = wait.max(cap.wait());
                }
                if wait.is_zero() {
                    budget.bucket.tokens -= 1.0;
                    if let Some(cap) = cap {
                        cap.tokens -= 1.0;
                    }
                    return;
                }
                wait
            };
            tokio::time::sleep(wait.min(RECHECK)).await;
        }
    }

    /// A request the SDK sends again by itself (a retry after a 5xx or a timeout) spends a
    /// token too, without waiting for it: the next requests wait the longer.
    pub fn charge(&self, service: &'static str) {
        let mut books = self.books();
        let now = Instant::now();
        let budget = books
            .services
            .entry(service)
            .or_insert_with(|| Budget::new(service, now));
        budget.bucket.refill(now);
        budget.bucket.tokens = (budget.bucket.tokens - 1.0).max(-budget.bucket.burst);
    }

    /// Feeds an answer back: throttling halves the service's rate, success raises it.
    pub fn answered(&self, service: &'static str, answer: Answer) {
        let mut books = self.books();
        let now = Instant::now();
        books
            .services
            .entry(service)
            .or_insert_with(|| Budget::new(service, now))
            .answered(answer, now);
    }

    /// Requests per second `service` is allowed now (`snapshot` for every service).
    #[cfg(test)]
    pub fn allowed(&self, service: &'static str) -> f64 {
        self.books()
            .services
            .get(service)
            .map_or_else(|| ceiling(service), |b| b.bucket.per_sec)
    }

    /// Every service used so far, by name.
    pub fn snapshot(&self) -> Vec<BudgetStat> {
        let mut books = self.books();
        let now = Instant::now();
        let mut stats: Vec<BudgetStat> = books
            .services
            .iter_mut()
            .map(|(service, budget)| {
                budget.forget_before(now);
                BudgetStat {
                    service: service.to_string(),
                    allowed: budget.bucket.per_sec,
                    ceiling: budget.ceiling,
                    answers: budget.recent.len() as u64,
                    throttled: budget.recent.iter().filter(|(_, t)| *t).count() as u64,
                }
            })
            .collect();
        stats.sort_by(|a, b| a.service.cmp(&b.service));
        stats
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Requests of `op` that get through in `secs` of (virtual) time, asking as fast as allowed.
    async fn sent_within(limiter: &RateLimiter, op: &'static str, secs: u64) -> u32 {
        let end = Instant::now() + Duration::from_secs(secs);
        let mut sent = 0;
        loop {
            limiter.acquire(op).await;
            if Instant::now() > end {
                return sent;
            }
            sent += 1;
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_burst_passes_then_calls_are_spaced_at_the_sustained_rate() {
        let limiter = RateLimiter::default();
        let start = Instant::now();
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
    async fn operations_of_one_service_share_its_budget_and_services_do_not() {
        let limiter = RateLimiter::default();
        // ECS's burst (50) spent by one operation…
        for _ in 0..50 {
            limiter.acquire("ecs:ListTasks").await;
        }
        let start = Instant::now();
        // …makes another ECS operation wait,
        limiter.acquire("ecs:DescribeServices").await;
        assert!(start.elapsed() > Duration::ZERO);
        // but not EC2's.
        let start = Instant::now();
        limiter.acquire("ec2:DescribeInstances").await;
        assert_eq!(start.elapsed(), Duration::ZERO);
    }

    #[tokio::test(start_paused = true)]
    async fn throttling_halves_the_rate_once_a_second_down_to_the_floor() {
        let limiter = RateLimiter::default();
        assert_eq!(limiter.allowed("ecs"), 20.0);
        limiter.answered("ecs", Answer::Throttled);
        // Answers to requests sent together are one signal.
        limiter.answered("ecs", Answer::Throttled);
        limiter.answered("ecs", Answer::Throttled);
        assert_eq!(limiter.allowed("ecs"), 10.0);
        for _ in 0..20 {
            tokio::time::advance(CUT_EVERY).await;
            limiter.answered("ecs", Answer::Throttled);
        }
        assert_eq!(limiter.allowed("ecs"), FLOOR_PER_SEC);
        assert_eq!(limiter.allowed("ec2"), 20.0, "other services keep theirs");
    }

    #[tokio::test(start_paused = true)]
    async fn under_throttling_requests_go_out_at_the_floor_rate() {
        let limiter = RateLimiter::default();
        let healthy = sent_within(&limiter, "ecs:ListTasks", 30).await;
        for _ in 0..10 {
            tokio::time::advance(CUT_EVERY).await;
            limiter.answered("ecs", Answer::Throttled);
        }
        let throttled = sent_within(&limiter, "ecs:ListTasks", 30).await;
        // 20/s and a burst of 50 against one request every 5 s and a burst of one.
        assert!(healthy >= 600, "{healthy}");
        assert!((5..=7).contains(&throttled), "{throttled}");
    }

    #[tokio::test(start_paused = true)]
    async fn steady_success_raises_the_rate_additively_back_to_the_ceiling() {
        let limiter = RateLimiter::default();
        for _ in 0..10 {
            tokio::time::advance(CUT_EVERY).await;
            limiter.answered("ecs", Answer::Throttled);
        }
        let mut rates = vec![limiter.allowed("ecs")];
        for _ in 0..25 {
            limiter.answered("ecs", Answer::Succeeded);
            rates.push(limiter.allowed("ecs"));
        }
        let steps: Vec<f64> = rates.windows(2).map(|w| w[1] - w[0]).collect();
        assert!(
            steps[..19].iter().all(|s| (s - 1.0).abs() < 1e-9),
            "one step of 1/s per answer: {rates:?}"
        );
        assert_eq!(*rates.last().unwrap(), 20.0, "{rates:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn a_waiting_request_goes_out_soon_after_the_rate_rises_again() {
        let limiter = std::sync::Arc::new(RateLimiter::default());
        for _ in 0..10 {
            tokio::time::advance(CUT_EVERY).await;
            limiter.answered("ecs", Answer::Throttled);
        }
        limiter.acquire("ecs:ListTasks").await; // the one token of the floor's burst
        let waiting = {
            let limiter = limiter.clone();
            tokio::spawn(async move {
                let start = Instant::now();
                limiter.acquire("ecs:ListTasks").await;
                start.elapsed()
            })
        };
        tokio::time::advance(Duration::from_millis(100)).await;
        for _ in 0..5 {
            limiter.answered("ecs", Answer::Succeeded);
        }
        let waited = waiting.await.unwrap();
        assert!(waited <= Duration::from_millis(1200), "{waited:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn retries_the_sdk_sends_spend_the_budget_too() {
        let limiter = RateLimiter::default();
        // The burst (50), then 50 more owed.
        for _ in 0..100 {
            limiter.charge("ecs");
        }
        let start = Instant::now();
        limiter.acquire("ecs:ListTasks").await;
        // 50 tokens owed at 20 a second.
        assert!(
            start.elapsed() >= Duration::from_secs(2),
            "{:?}",
            start.elapsed()
        );
    }

    #[tokio::test(start_paused = true)]
    async fn stats_show_the_allowed_rate_and_the_throttled_share_of_the_last_minute() {
        let limiter = RateLimiter::default();
        limiter.answered("ecs", Answer::Succeeded);
        limiter.answered("ecs", Answer::Throttled);
        tokio::time::advance(Duration::from_secs(61)).await;
        limiter.answered("ecs", Answer::Succeeded);
        limiter.answered("ecs", Answer::Throttled);
        limiter.answered("ecs", Answer::Succeeded);
        let stats = limiter.snapshot();
        assert_eq!(stats.len(), 1);
        assert_eq!(stats[0].service, "ecs");
        assert_eq!((stats[0].answers, stats[0].throttled), (3, 1));
        assert_eq!(stats[0].allowed, limiter.allowed("ecs"));
        assert_eq!(stats[0].ceiling, 20.0);
    }

    #[tokio::test(start_paused = true)]
    async fn failures_that_are_not_throttling_leave_the_rate_alone() {
        let limiter = RateLimiter::default();
        limiter.answered("ecs", Answer::Throttled);
        limiter.answered("ecs", Answer::Failed);
        assert_eq!(limiter.allowed("ecs"), 10.0);
    }
}
