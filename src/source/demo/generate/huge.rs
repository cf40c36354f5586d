//! `huge`: the biggest accounts, for the scale work — 40 clusters, 2,000 services (one cluster
//! of 1,200), 100,000 tasks and 5,000 instances, built from the same blocks as `large` (uniform
//! services of 50 tasks placed round-robin) so it starts in about a second.

use super::{DAY, Generator, HOUR, Plan};
use crate::source::demo::fleet::{ClusterState, StopKind};
use crate::source::demo::lifecycle::secs;
use crate::source::demo::names::{
    self, AZ_COUNT, DATADOG, ENVOY, LARGE_DOMAINS, LARGE_ROLES, LOG_ROUTER, M5_2XLARGE, Sidecar,
};

/// The big cluster: 1,200 services × 50 tasks on 3,000 instances.
pub const CORE: &str = "core";
const CORE_SERVICES: usize = 1_200;
const CORE_INSTANCES: usize = 3_000;
/// The other 39 clusters share 800 services and 2,000 instances.
const OTHER_CLUSTERS: usize = 39;
const OTHER_SERVICES: usize = 800;
const OTHER_INSTANCES: usize = 2_000;
const TASKS_PER_SERVICE: u32 = 50;

/// Suffixes that multiply the 200 `domain-role` names of `large` into the core's 1,200.
const SHARDS: [&str; 6] = ["", "-emea", "-apac", "-amer", "-edge", "-internal"];

impl Generator {
    pub(super) fn huge_fleet(&mut self) -> Vec<ClusterState> {
        let mut clusters = Vec::with_capacity(OTHER_CLUSTERS + 1);
        let names: Vec<String> = SHARDS
            .iter()
            .flat_map(|shard| {
                LARGE_DOMAINS
                    .iter()
                    .flat_map(move |d| LARGE_ROLES.iter().map(move |r| format!("{d}-{r}{shard}")))
            })
            .take(CORE_SERVICES)
            .collect();
        clusters.push(self.huge_cluster(CORE, CORE_INSTANCES, &names));
        for c in 0..OTHER_CLUSTERS {
            let env = if c < LARGE_DOMAINS.len() {
                "prod"
            } else {
                "staging"
            };
            let domain = LARGE_DOMAINS[c % LARGE_DOMAINS.len()];
            let name = format!("{domain}-{env}");
            // Spread the remainders over the first clusters so the totals are exact.
            let share =
                |total: usize| total / OTHER_CLUSTERS + usize::from(c < total % OTHER_CLUSTERS);
            let services: Vec<String> = ["", "-b", "-c"]
                .iter()
                .flat_map(|suffix| {
                    LARGE_ROLES
                        .iter()
                        .map(move |r| format!("{domain}-{r}{suffix}"))
                })
                .take(share(OTHER_SERVICES))
                .collect();
            clusters.push(self.huge_cluster(&name, share(OTHER_INSTANCES), &services));
        }
        clusters
    }

    fn huge_cluster(&mut self, name: &str, instances: usize, services: &[String]) -> ClusterState {
        let mut cl = ClusterState::new(self.place, name, false);
        cl.capacity_providers = vec![format!("{name}-asg")];
        cl.container_insights = true;
        for n in 0..instances {
            let i = self.instance(&mut cl, M5_2XLARGE, n % AZ_COUNT, None);
            if n % 37 == 5 {
                cl.instances[i].instance.agent_version = names::OLD_AGENT_VERSION.into();
            }
        }
        const SIDECARS: [&[&Sidecar]; 4] = [&[], &[&LOG_ROUTER], &[&DATADOG], &[&ENVOY]];
        for (n, service) in services.iter().enumerate() {
            let role = service.split('-').nth(1).unwrap_or_default();
            let background = matches!(role, "worker" | "consumer" | "cron" | "scheduler");
            let p = Plan {
                name: service.clone(),
                desired: TASKS_PER_SERVICE,
                cpu: 256,
                memory: if n % 2 == 0 { 512 } else { 1024 },
                sidecars: SIDECARS[n % 4],
                exec: n % 4 == 0,
                web: matches!(role, "api" | "gateway" | "web"),
                health_check: !background,
                spot: false,
                pool: None,
            };
            let deployed_ago = self.rng.i64(2 * HOUR..=20 * DAY);
            let s = self.service(&mut cl, &p, deployed_ago);
            let _ = self.fill(&mut cl, s, p.desired);
        }
        if name == CORE {
            self.core_incidents(&mut cl);
        }
        self.finish(&mut cl);
        cl
    }

    /// What `large` has going on, in the core cluster: OOM kills, a crash, unhealthy tasks and
    /// an instance whose agent lost its connection.
    fn core_incidents(&mut self, cl: &mut ClusterState) {
        let s = cl.service_index["payments-worker"];
        self.seed_stop(cl, s, StopKind::OutOfMemory, self.ago(20 * 60), true);
        self.seed_stop(cl, s, StopKind::OutOfMemory, self.ago(8 * 60), true);
        let s = cl.service_index["search-indexer-emea"];
        self.seed_stop(cl, s, StopKind::Crash, self.ago(15 * 60), true);
        for (name, nth) in [
            ("checkout-api", 3),
            ("billing-web-apac", 17),
            ("fraud-grpc-edge", 41),
        ] {
            let s = cl.service_index[name];
            let at = self.start + secs(self.rng.i64(60..=300));
            self.unhealthy(cl, s, nth, true, at);
        }
        let lost = &mut cl.instances[123].instance;
        lost.agent_connected = false;
        lost.agent_version = names::OLD_AGENT_VERSION.into();
    }
}
