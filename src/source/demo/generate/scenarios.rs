//! What each scenario contains: its clusters, instances and services, and the scripted
//! incidents that give an operator something to look at from the first second.

use super::{DAY, Generator, HOUR, Plan, plan};
use crate::source::demo::fleet::{ClusterState, StopKind};
use crate::source::demo::lifecycle::secs;
use crate::source::demo::names::{
    self, AZ_COUNT, C6I_4XLARGE, DATADOG, ENVOY, LOG_ROUTER, M5_2XLARGE, M5_4XLARGE, M5_XLARGE,
    R6I_2XLARGE, Sidecar, T3_XLARGE,
};
use crate::source::demo::simulate::begin_deployment;

impl Generator {
    pub(super) fn default_fleet(&mut self) -> Vec<ClusterState> {
        vec![self.prod(), self.staging(), self.batch()]
    }

    fn prod(&mut self) -> ClusterState {
        let mut cl = ClusterState::new(self.place, "prod", false);
        cl.capacity_providers = vec!["prod-asg".into()];
        cl.container_insights = true;
        let general = [
            (M5_4XLARGE, 0),
            (M5_4XLARGE, 1),
            (M5_4XLARGE, 2),
            (C6I_4XLARGE, 0),
            (C6I_4XLARGE, 1),
            (M5_2XLARGE, 2),
            (M5_2XLARGE, 0),
        ];
        for (ty, az) in general {
            self.instance(&mut cl, ty, az, None);
        }
        // Memory-heavy model serving gets its own instance through a placement constraint.
        self.instance(&mut cl, R6I_2XLARGE, 1, Some("ml"));

        const E: &[&Sidecar] = &[&ENVOY];
        const D: &[&Sidecar] = &[&DATADOG];
        const L: &[&Sidecar] = &[&LOG_ROUTER];
        const ED: &[&Sidecar] = &[&ENVOY, &DATADOG];
        const EL: &[&Sidecar] = &[&ENVOY, &LOG_ROUTER];
        const NONE: &[&Sidecar] = &[];
        let plans = [
            plan("web", 12, 512, 1024, L, false, true, true),
            plan("api-gateway", 12, 512, 1024, ED, false, true, true),
            plan("cart", 8, 512, 1024, E, true, true, true),
            plan("checkout", 8, 512, 1024, ED, true, true, true),
            plan("payments", 6, 1024, 2048, D, true, true, true),
            plan("ledger", 3, 1024, 3072, D, true, false, true),
            plan("search", 12, 512, 2048, NONE, false, true, true),
            plan("auth", 6, 256, 512, E, false, true, true),
            plan("inventory", 8, 512, 1024, D, false, false, true),
            plan("orders", 10, 512, 1024, EL, false, true, true),
            Plan {
                pool: Some("ml"),
                ..plan("recommendations", 4, 2048, 20480, D, false, true, true)
            },
            plan("notifications", 4, 256, 512, L, false, false, false),
            plan("catalog", 10, 512, 1024, NONE, true, true, true),
        ];
        for p in &plans {
            let deployed_ago = match p.name.as_str() {
                "auth" => 45 * 60,
                _ => self.rng.i64(3 * HOUR..=9 * DAY),
            };
            let s = self.service(&mut cl, p, deployed_ago);
            match p.name.as_str() {
                "search" => self.search_pending(&mut cl, s),
                "recommendations" => self.recommendations_short(&mut cl, s),
                _ => {
                    let _ = self.fill(&mut cl, s, p.desired);
                }
            }
        }
        let find = |cl: &ClusterState, name: &str| cl.service_index[name];
        let s = find(&cl, "cart");
        self.cart_rollout(&mut cl, s);
        let s = find(&cl, "auth");
        self.old_revision_stopped(&mut cl, s);
        let s = find(&cl, "payments");
        self.seed_stop(&mut cl, s, StopKind::OutOfMemory, self.ago(42 * 60), true);
        self.seed_stop(
            &mut cl,
            s,
            StopKind::OutOfMemory,
            self.ago(11 * 60 + 20),
            true,
        );
        let s = find(&cl, "orders");
        self.seed_stop(&mut cl, s, StopKind::ElbHealth, self.ago(25 * 60), true);
        let s = find(&cl, "checkout");
        self.unhealthy(&mut cl, s, 1, false, self.start + secs(50));
        let s = find(&cl, "inventory");
        self.unhealthy(&mut cl, s, 2, true, self.start + secs(120));

        // An instance whose agent lost its connection keeps its tasks but takes no new ones.
        cl.instances[5].instance.agent_connected = false;
        self.not_refreshed(&mut cl, 5);
        self.not_refreshed(&mut cl, 3);
        self.finish(&mut cl);
        cl
    }

    fn staging(&mut self) -> ClusterState {
        let mut cl = ClusterState::new(self.place, "staging", false);
        cl.capacity_providers = vec!["staging-asg".into()];
        // Staging runs on a burstable host: its CPU credits are worth watching.
        self.instance(&mut cl, T3_XLARGE, 0, None);
        let draining = self.instance(&mut cl, M5_XLARGE, 1, None);
        cl.instances[draining].instance.status = "DRAINING".into();
        const L: &[&Sidecar] = &[&LOG_ROUTER];
        const NONE: &[&Sidecar] = &[];
        let plans = [
            plan("web", 2, 256, 512, L, true, true, true),
            plan("api-gateway", 2, 256, 512, NONE, true, true, true),
            plan("cart", 2, 256, 512, NONE, true, true, true),
            plan("checkout", 1, 256, 512, NONE, true, true, true),
            plan("payments", 1, 256, 512, NONE, true, false, true),
        ];
        for p in &plans {
            let deployed_ago = match p.name.as_str() {
                "checkout" => 22 * 60,
                _ => self.rng.i64(HOUR..=4 * DAY),
            };
            let s = self.service(&mut cl, p, deployed_ago);
            let _ = self.fill(&mut cl, s, p.desired);
        }
        // The first task of checkout's latest deployment could not pull its image.
        let s = cl.service_index["checkout"];
        let deployed_at = self.ago(22 * 60);
        if let Some(failed) = self.seed_stop(
            &mut cl,
            s,
            StopKind::PullFailure,
            deployed_at + secs(50),
            true,
        ) {
            let svc = &mut cl.services[s];
            if let Some(d) = svc.service.deployments.first_mut() {
                d.failed = 1;
            }
            let message = format!("(service checkout) has started 1 tasks: (task {failed}).");
            let created = cl.task(&failed).and_then(|t| t.created_at);
            let svc = &mut cl.services[s];
            svc.push_event(&mut self.rng, created.unwrap_or(deployed_at), message);
        }
        let s = cl.service_index["web"];
        self.unhealthy(&mut cl, s, 0, true, self.start + secs(360));
        self.finish(&mut cl);
        cl
    }

    fn batch(&mut self) -> ClusterState {
        let mut cl = ClusterState::new(self.place, "batch", true);
        cl.capacity_providers = vec!["FARGATE".into(), "FARGATE_SPOT".into()];
        const L: &[&Sidecar] = &[&LOG_ROUTER];
        const D: &[&Sidecar] = &[&DATADOG];
        const NONE: &[&Sidecar] = &[];
        let plans = [
            Plan {
                spot: true,
                ..plan("email-worker", 12, 512, 1024, L, false, false, false)
            },
            Plan {
                spot: true,
                ..plan("image-resizer", 16, 1024, 2048, NONE, false, false, false)
            },
            plan("pdf-renderer", 6, 1024, 3072, D, false, false, false),
            plan("reporting", 2, 2048, 4096, NONE, true, false, false),
        ];
        for p in &plans {
            let deployed_ago = self.rng.i64(2 * HOUR..=12 * DAY);
            let s = self.service(&mut cl, p, deployed_ago);
            let _ = self.fill(&mut cl, s, p.desired);
        }
        let s = cl.service_index["image-resizer"];
        self.seed_stop(
            &mut cl,
            s,
            StopKind::SpotInterruption,
            self.ago(30 * 60),
            true,
        );
        self.seed_stop(
            &mut cl,
            s,
            StopKind::SpotInterruption,
            self.ago(30 * 60 - 4),
            true,
        );
        let s = cl.service_index["pdf-renderer"];
        self.seed_stop(&mut cl, s, StopKind::OutOfMemory, self.ago(50 * 60), true);
        self.finish(&mut cl);
        cl
    }

    /// 200 services × 50 tasks on 500 instances: the scale test for every pane.
    pub(super) fn large_cluster(&mut self) -> ClusterState {
        let mut cl = ClusterState::new(self.place, "large", false);
        cl.capacity_providers = vec!["large-asg".into()];
        cl.container_insights = true;
        for n in 0..500 {
            let i = self.instance(&mut cl, M5_2XLARGE, n % AZ_COUNT, None);
            if n % 37 == 5 {
                self.not_refreshed(&mut cl, i);
            }
        }
        const SIDECARS: [&[&Sidecar]; 4] = [&[], &[&LOG_ROUTER], &[&DATADOG], &[&ENVOY]];
        let mut n = 0;
        for domain in names::LARGE_DOMAINS {
            for role in names::LARGE_ROLES {
                let background = matches!(role, "worker" | "consumer" | "cron" | "scheduler");
                let p = Plan {
                    name: format!("{domain}-{role}"),
                    desired: 50,
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
                n += 1;
            }
        }
        let s = cl.service_index["payments-worker"];
        self.seed_stop(&mut cl, s, StopKind::OutOfMemory, self.ago(20 * 60), true);
        self.seed_stop(&mut cl, s, StopKind::OutOfMemory, self.ago(8 * 60), true);
        let s = cl.service_index["search-indexer"];
        self.seed_stop(&mut cl, s, StopKind::Crash, self.ago(15 * 60), true);
        for (name, nth) in [("checkout-api", 3), ("billing-web", 17), ("fraud-grpc", 41)] {
            let s = cl.service_index[name];
            let at = self.start + secs(self.rng.i64(60..=300));
            self.unhealthy(&mut cl, s, nth, true, at);
        }
        cl.instances[123].instance.agent_connected = false;
        self.not_refreshed(&mut cl, 123);
        self.finish(&mut cl);
        cl
    }

    /// prod/cart is half-way through a rolling deployment of a new revision.
    fn cart_rollout(&mut self, cl: &mut ClusterState, s: usize) {
        let old = cl.services[s].primary_id().unwrap_or_default().to_string();
        let created = self.ago(350);
        let svc = &mut cl.services[s];
        svc.spec.revision += 1;
        let tag = names::release_tag(self.ago(40 * 60), self.rng.u32(2..6));
        svc.spec.image = svc.spec.place.ecr_image(&svc.spec.app_name, &tag);
        let new = names::deployment_id(&mut self.rng);
        begin_deployment(svc, new.clone(), created);

        let mut first = Vec::new();
        for _ in 0..4 {
            let at = created + secs(5);
            if let Ok(i) = cl.start_task(s, &new, at, &mut self.rng, None) {
                self.settle_running(cl, s, i, at);
                first.push(cl.services[s].tasks[i].task.id().to_string());
            }
        }
        let stop_at = self.ago(270);
        let old_ids: Vec<String> = cl.services[s]
            .tasks
            .iter()
            .filter(|t| t.deployment == old)
            .take(4)
            .map(|t| t.task.id().to_string())
            .collect();
        for id in &old_ids {
            if let Some(i) = cl.services[s].tasks.iter().position(|t| t.task.id() == id) {
                cl.begin_stop(s, i, StopKind::Deployment, stop_at, &mut self.rng);
            }
        }
        for id in &old_ids {
            if let Some(i) = cl.services[s].tasks.iter().position(|t| t.task.id() == id) {
                let at = stop_at + secs(self.rng.i64(40..=80));
                cl.finish_stop(s, i, at);
            }
        }
        let mut second = Vec::new();
        for _ in 0..4 {
            let ready_at = self.start + secs(self.rng.i64(10..=50));
            if let Some(id) = self.pending(cl, s, &new, self.ago(70), ready_at) {
                second.push(id);
            }
        }
        let rng = &mut self.rng;
        let svc = &mut cl.services[s];
        svc.clear_buffers();
        let tg = svc.service.target_group_arns[0].clone();
        let list = |ids: &[String]| {
            ids.iter()
                .map(|id| format!("(task {id})"))
                .collect::<Vec<_>>()
                .join(" ")
        };
        let events = [
            (
                created + secs(5),
                format!(
                    "(service cart) has started {} tasks: {}.",
                    first.len(),
                    list(&first)
                ),
            ),
            (
                created + secs(80),
                format!(
                    "(service cart) registered {} targets in (target-group {tg})",
                    first.len()
                ),
            ),
            (
                stop_at,
                format!(
                    "(service cart) has begun draining connections on {} tasks.",
                    old_ids.len()
                ),
            ),
            (
                stop_at,
                format!(
                    "(service cart) deregistered {} targets in (target-group {tg})",
                    old_ids.len()
                ),
            ),
            (
                stop_at,
                format!(
                    "(service cart) has stopped {} running tasks: {}.",
                    old_ids.len(),
                    list(&old_ids)
                ),
            ),
            (
                self.start - secs(70),
                format!(
                    "(service cart) has started {} tasks: {}.",
                    second.len(),
                    list(&second)
                ),
            ),
        ];
        for (at, message) in events {
            svc.push_event(rng, at, message);
        }
        if let Some(d) = svc.service.deployments.first_mut() {
            d.updated_at = Some(self.start - secs(70));
        }
        svc.unsteady = true;
    }

    /// prod/auth finished a deployment 45 minutes ago; the old revision's tasks are still listed
    /// as stopped.
    fn old_revision_stopped(&mut self, cl: &mut ClusterState, s: usize) {
        let svc = &mut cl.services[s];
        let Some(deployed_at) = svc.service.deployments[0].created_at else {
            return;
        };
        let current = svc.spec.clone();
        svc.spec.revision -= 1;
        let tag = names::release_tag(deployed_at - secs(5 * DAY), self.rng.u32(1..4));
        svc.spec.image = svc.spec.place.ecr_image(&svc.spec.app_name, &tag);
        let old = names::deployment_id(&mut self.rng);
        let stop_at = deployed_at + secs(150);
        let mut ids = Vec::new();
        for _ in 0..cl.services[s].service.desired {
            let created = deployed_at - secs(self.rng.i64(DAY..=5 * DAY));
            let Ok(i) = cl.start_task(s, &old, created, &mut self.rng, None) else {
                break;
            };
            self.settle_running(cl, s, i, created);
            ids.push(cl.services[s].tasks[i].task.id().to_string());
            cl.begin_stop(s, i, StopKind::Deployment, stop_at, &mut self.rng);
            let at = stop_at + secs(self.rng.i64(40..=80));
            cl.finish_stop(s, i, at);
        }
        let rng = &mut self.rng;
        let svc = &mut cl.services[s];
        svc.spec = current;
        svc.clear_buffers();
        let tg = svc
            .service
            .target_group_arns
            .first()
            .cloned()
            .unwrap_or_default();
        let n = ids.len();
        let list = ids
            .iter()
            .map(|id| format!("(task {id})"))
            .collect::<Vec<_>>()
            .join(" ");
        svc.push_event(
            rng,
            stop_at,
            format!("(service auth) has begun draining connections on {n} tasks."),
        );
        svc.push_event(
            rng,
            stop_at,
            format!("(service auth) deregistered {n} targets in (target-group {tg})"),
        );
        svc.push_event(
            rng,
            stop_at,
            format!("(service auth) has stopped {n} running tasks: {list}."),
        );
    }

    /// prod/search lost two tasks a few minutes ago; their replacements are still pulling.
    fn search_pending(&mut self, cl: &mut ClusterState, s: usize) {
        let desired = cl.services[s].service.desired;
        let _ = self.fill(cl, s, desired - 2);
        let crashed_at = self.ago(215);
        for _ in 0..2 {
            self.seed_stop(cl, s, StopKind::Crash, crashed_at, false);
        }
        let deployment = cl.services[s].primary_id().unwrap_or_default().to_string();
        let mut ids = Vec::new();
        for _ in 0..2 {
            let ready_at = self.start + secs(self.rng.i64(60..=100));
            if let Some(id) = self.pending(cl, s, &deployment, crashed_at + secs(5), ready_at) {
                ids.push(format!("(task {id})"));
            }
        }
        let svc = &mut cl.services[s];
        svc.clear_buffers();
        let message = format!("(service search) has started 2 tasks: {}.", ids.join(" "));
        svc.push_event(&mut self.rng, crashed_at + secs(5), message);
        svc.unsteady = true;
    }

    /// prod/recommendations was scaled to 4 but its instance only has room for 3.
    fn recommendations_short(&mut self, cl: &mut ClusterState, s: usize) {
        let desired = cl.services[s].service.desired;
        let Err(message) = self.fill(cl, s, desired) else {
            return;
        };
        let svc = &mut cl.services[s];
        for minutes in [35, 25, 15, 5] {
            svc.push_event(
                &mut self.rng,
                self.start - secs(minutes * 60),
                message.clone(),
            );
        }
        svc.last_place_event_at = Some(self.ago(5 * 60));
        svc.place_retry_at = Some(self.start + secs(20));
        svc.unsteady = true;
    }
}
