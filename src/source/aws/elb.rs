//! ELBv2: which load balancer each of a service's target groups sits behind. CloudWatch keys
//! load balancer metrics on both, and ECS only reports the target group.

use super::AwsSource;
use crate::model::Service;

/// Target groups per `DescribeTargetGroups` call.
const TARGET_GROUPS_PER_CALL: usize = 20;

impl AwsSource {
    /// Fills in `target_group_lbs`. A target group's load balancer never changes while it is
    /// attached, so each is looked up once. Failures (no ELB permission, say) only cost the
    /// load balancer metrics, never the services list.
    pub(super) async fn link_load_balancers(&self, services: &mut [Service]) {
        let unknown: Vec<String> = {
            let known = self
                .load_balancers
                .lock()
                .unwrap_or_else(|e| e.into_inner());
            let mut unknown: Vec<String> = services
                .iter()
                .flat_map(|s| &s.target_group_arns)
                .filter(|tg| !known.contains_key(*tg))
                .cloned()
                .collect();
            unknown.sort();
            unknown.dedup();
            unknown
        };
        for batch in unknown.chunks(TARGET_GROUPS_PER_CALL) {
            let op = "elasticloadbalancing:DescribeTargetGroups";
            self.limiter.acquire(op).await;
            match self
                .elb
                .describe_target_groups()
                .set_target_group_arns(Some(batch.to_vec()))
                .send()
                .await
            {
                Ok(out) => {
                    let mut known = self
                        .load_balancers
                        .lock()
                        .unwrap_or_else(|e| e.into_inner());
                    for tg in batch {
                        known.insert(tg.clone(), None);
                    }
                    for tg in out.target_groups() {
                        if let Some(arn) = tg.target_group_arn() {
                            let lb = tg.load_balancer_arns().first();
                            let clean = |s: &str| crate::sanitize::clean(s).into_owned();
                            known.insert(clean(arn), lb.map(|lb| clean(lb)));
                        }
                    }
                }
                Err(e) => {
                    // Said once (logged): without ELB access the load balancer metrics are
                    // simply absent; asking again on every services poll would only repeat it.
                    let _ = self.error(op, "target groups", &e);
                    let mut known = self
                        .load_balancers
                        .lock()
                        .unwrap_or_else(|e| e.into_inner());
                    for tg in batch {
                        known.insert(tg.clone(), None);
                    }
                }
            }
        }
        let known = self
            .load_balancers
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        for service in services {
            service.target_group_lbs = service
                .target_group_arns
                .iter()
                .filter_map(|tg| Some((tg.clone(), known.get(tg)?.clone()?)))
                .collect();
        }
    }
}
