//! The shared fixture of the replayed incidents (`../shared/design/triage-catalog.md`, "Demo
//! scenarios"): cluster `demo-prod` with Container Insights (enhanced), its instances split over
//! two AZs, an ALB `demo-alb` with `tg-web` in front of the Spring Boot service `web` (awsvpc,
//! grace 60 s, circuit breaker with rollback), and quiet neighbours (behind an internal ALB);
//! plus a small Fargate cluster `demo-batch` so the screen looks like a real account. Each
//! scenario's [`Fixture`] says what it changes.

use super::{Generator, plan};
use crate::model::{DeploymentConfig, LbBinding};
use crate::source::demo::fleet::ClusterState;
use crate::source::demo::lifecycle::Placement;
use crate::source::demo::names;
use crate::source::demo::scenario::{Fixture, WebPlan};

impl Generator {
    pub(super) fn incident_fleet(&mut self, fixture: &Fixture) -> Vec<ClusterState> {
        vec![self.demo_prod(fixture), self.demo_batch()]
    }

    fn demo_prod(&mut self, f: &Fixture) -> ClusterState {
        let mut cl = ClusterState::new(self.place, "demo-prod", false);
        cl.capacity_providers = vec!["demo-prod-asg".into()];
        cl.container_insights = true;
        for &(ty, az) in &f.instances {
            let n = self.instance(&mut cl, ty, az, None);
            // The incidents' burstable hosts run in standard mode until the script switches
            // them (`World::unlimited_credits`), as the catalog's fixture says.
            if cl.instances[n].instance.credit_mode == crate::model::CreditMode::Unlimited {
                cl.instances[n].instance.credit_mode = crate::model::CreditMode::Standard;
            }
        }
        let lb = self.load_balancer("demo-alb");
        // The neighbours sit behind an internal ALB, so demo-alb's numbers are web's alone.
        let internal = self.load_balancer("demo-internal");

        let w = &f.web;
        let p = plan("web", w.desired, w.cpu, w.memory, &[], true, true, false);
        let s = self.service(&mut cl, &p, w.deployed_ago);
        self.shape_service(&mut cl, s, "web", w.revision, w.tag);
        self.front(&mut cl, s, "tg-web", &lb);
        self.deploy_config(&mut cl, s, w);
        let _ = self.fill(&mut cl, s, w.desired);

        for n in &f.neighbours {
            let p = plan(
                n.name,
                n.tasks.len() as u32,
                n.cpu,
                n.memory,
                &[],
                false,
                n.load_balanced,
                false,
            );
            let deployed_ago = self.rng.i64(3 * 86_400..=20 * 86_400);
            let s = self.service(&mut cl, &p, deployed_ago);
            let revision = self.rng.u32(4..60);
            let tag = format!("1.{}.{}", self.rng.u32(2..9), self.rng.u32(0..20));
            self.shape_service(&mut cl, s, n.name, revision, &tag);
            if n.load_balanced {
                self.front(&mut cl, s, &format!("tg-{}", n.name), &internal);
            }
            for pin in &n.tasks {
                match pin {
                    Some(i) => self.pinned_task(&mut cl, s, *i),
                    None => {
                        let _ = self.fill(&mut cl, s, 1);
                    }
                }
            }
        }
        self.finish(&mut cl);
        cl
    }

    fn demo_batch(&mut self) -> ClusterState {
        let mut cl = ClusterState::new(self.place, "demo-batch", true);
        cl.capacity_providers = vec!["FARGATE".into(), "FARGATE_SPOT".into()];
        let p = plan("report-exporter", 2, 512, 1024, &[], false, false, false);
        let deployed_ago = self.rng.i64(2 * 86_400..=9 * 86_400);
        let s = self.service(&mut cl, &p, deployed_ago);
        self.shape_service(&mut cl, s, "report-exporter", 31, "3.1.4");
        let _ = self.fill(&mut cl, s, 2);
        self.finish(&mut cl);
        cl
    }

    /// The family is the service's own name, at a known revision and image tag.
    fn shape_service(
        &mut self,
        cl: &mut ClusterState,
        s: usize,
        family: &str,
        revision: u32,
        tag: &str,
    ) {
        let svc = &mut cl.services[s];
        svc.spec.family = family.to_string();
        svc.spec.revision = revision;
        svc.spec.image = svc.spec.place.ecr_image(family, tag);
        let td = svc.spec.task_definition();
        svc.service.task_definition = td.clone();
        for d in &mut svc.service.deployments {
            d.task_definition = td.clone();
        }
        if !cl.fargate {
            // awsvpc tasks in the two private subnets.
            svc.service.subnets = vec![
                "subnet-0a41c9e27d3b58f10".into(),
                "subnet-0b7e25d1c4a96f382".into(),
            ];
            svc.service.placement_strategy = vec![
                "spread(attribute:ecs.availability-zone)".into(),
                "spread(instanceId)".into(),
            ];
        }
    }

    fn load_balancer(&mut self, name: &str) -> String {
        let id = names::hex(&mut self.rng, 16);
        self.place.load_balancer_arn(name, &id)
    }

    /// Puts target group `name` of load balancer `lb` in front of the service.
    fn front(&mut self, cl: &mut ClusterState, s: usize, name: &str, lb: &str) {
        let tg = self.place.target_group_arn(&mut self.rng, name);
        let svc = &mut cl.services[s];
        svc.service.target_group_arns = vec![tg.clone()];
        svc.service.target_group_lbs = vec![(tg.clone(), lb.to_string())];
        svc.service.lb_bindings = vec![LbBinding {
            target_group_arn: tg,
            container_name: svc.spec.app_name.clone(),
            container_port: 8080,
        }];
        svc.service.health_check_grace_secs = Some(60);
    }

    fn deploy_config(&mut self, cl: &mut ClusterState, s: usize, w: &WebPlan) {
        cl.services[s].service.deployment_config = DeploymentConfig {
            minimum_healthy_percent: Some(w.minimum_healthy_percent),
            maximum_percent: Some(w.maximum_percent),
            circuit_breaker: w.circuit_breaker,
            rollback: w.circuit_breaker,
        };
    }

    /// One settled task of service `s` on instance `n`.
    fn pinned_task(&mut self, cl: &mut ClusterState, s: usize, n: usize) {
        let Some(deployment) = cl.services[s].primary_id().map(str::to_string) else {
            return;
        };
        if !cl.fits(s, n) {
            return;
        }
        let deployed_at = cl.services[s]
            .service
            .primary_deployment()
            .and_then(|d| d.created_at)
            .unwrap_or(self.start);
        let created = deployed_at + super::secs(self.rng.i64(5..=40));
        let placement = Placement {
            instance: Some(n),
            az: cl.instances[n].az,
        };
        let i = cl.start_task_at(s, &deployment, created, &mut self.rng, None, placement);
        self.settle_running(cl, s, i, created);
        let svc = &mut cl.services[s];
        svc.clear_buffers();
        svc.unsteady = false;
    }
}
