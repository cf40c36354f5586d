//! The polls: list every page, describe in batches within AWS's limits, join with EC2.

use std::collections::{HashMap, HashSet};

use aws_sdk_ecs::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_ecs::types::{
    ClusterField, ContainerInstanceField, DesiredStatus, ServiceField, TaskField,
};
use aws_smithy_async::future::pagination_stream::PaginationStream;
use futures::{StreamExt, TryStreamExt, stream};

use super::convert::{self, Ec2Facts};
use super::{AwsSource, CONCURRENCY};
use crate::model::{Cluster, Instance, Service, SharedStr, Task, TaskScope, arn_tail};
use crate::source::SourceError;

const DESCRIBE_CLUSTERS_MAX: usize = 100;
const DESCRIBE_SERVICES_MAX: usize = 10;
const DESCRIBE_TASKS_MAX: usize = 100;
const DESCRIBE_INSTANCES_MAX: usize = 100;
const EC2_DESCRIBE_MAX: usize = 1000;

/// Runs `describe` over `items` in batches of `size`, `CONCURRENCY` at a time, in order.
async fn batched<T, F, Fut>(
    items: Vec<String>,
    size: usize,
    describe: F,
) -> Result<Vec<T>, SourceError>
where
    F: Fn(Vec<String>) -> Fut,
    Fut: Future<Output = Result<Vec<T>, SourceError>>,
{
    let batches: Vec<Vec<String>> = items.chunks(size).map(<[String]>::to_vec).collect();
    let results: Vec<Vec<T>> = stream::iter(batches)
        .map(describe)
        .buffered(CONCURRENCY)
        .try_collect()
        .await?;
    Ok(results.into_iter().flatten().collect())
}

impl AwsSource {
    /// Reads every page of a paginator, one token from `op`'s bucket per page, and returns the
    /// ids `ids` takes from each page.
    pub(super) async fn all_pages<O, E, R>(
        &self,
        op: &'static str,
        what: &str,
        mut pages: PaginationStream<Result<O, SdkError<E, R>>>,
        ids: impl Fn(O) -> Option<Vec<String>>,
    ) -> Result<Vec<String>, SourceError>
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
        R: std::fmt::Debug + 'static,
    {
        let mut all = Vec::new();
        loop {
            self.limiter.acquire(op).await;
            match pages.next().await {
                Some(page) => {
                    all.extend(ids(page.map_err(|e| self.error(op, what, &e))?).unwrap_or_default())
                }
                None => return Ok(all),
            }
        }
    }

    /// Remembers which EC2 instance backs each container instance (it never changes).
    fn remember_ec2_ids(&self, found: &[aws_sdk_ecs::types::ContainerInstance]) {
        let mut known = self.ec2_ids.lock().unwrap_or_else(|e| e.into_inner());
        for ci in found {
            if let (Some(arn), Some(id)) = (ci.container_instance_arn(), ci.ec2_instance_id()) {
                // Drawn as a task's instance: cleaned like the instance's own fields.
                let clean = |s: &str| crate::sanitize::clean(s).into_owned();
                known.insert(clean(arn), clean(id));
            }
        }
    }

    pub(super) async fn list_clusters(&self) -> Result<Vec<Cluster>, SourceError> {
        let pages = self.ecs.list_clusters().into_paginator().send();
        let arns = self
            .all_pages("ecs:ListClusters", "clusters", pages, |p| p.cluster_arns)
            .await?;
        let mut clusters = batched(arns, DESCRIBE_CLUSTERS_MAX, |batch| async move {
            let op = "ecs:DescribeClusters";
            self.limiter.acquire(op).await;
            let out = self
                .ecs
                .describe_clusters()
                .set_clusters(Some(batch))
                .include(ClusterField::Statistics)
                .include(ClusterField::Settings)
                .include(ClusterField::Tags)
                .send()
                .await
                .map_err(|e| self.error(op, "clusters", &e))?;
            Ok(out.clusters().iter().map(convert::cluster).collect())
        })
        .await?;
        clusters.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(clusters)
    }

    /// Every service ARN of a cluster (`ListServices`, every page of 100), in list order.
    pub(super) async fn list_service_arns(
        &self,
        cluster: &str,
    ) -> Result<Vec<String>, SourceError> {
        let what = format!("cluster {cluster}");
        let pages = self
            .ecs
            .list_services()
            .cluster(cluster)
            .max_results(100)
            .into_paginator()
            .send();
        let arns = self
            .all_pages("ecs:ListServices", &what, pages, |p| p.service_arns)
            .await?;
        Ok(cleaned(arns))
    }

    /// `DescribeServices` of these ARNs, in batches of 10, sorted by name.
    pub(super) async fn describe_service_arns(
        &self,
        cluster: &str,
        arns: Vec<String>,
    ) -> Result<Vec<Service>, SourceError> {
        let what = format!("cluster {cluster}");
        let mut services = batched(arns, DESCRIBE_SERVICES_MAX, |batch| {
            let what = what.clone();
            async move {
                let op = "ecs:DescribeServices";
                self.limiter.acquire(op).await;
                let out = self
                    .ecs
                    .describe_services()
                    .cluster(cluster)
                    .set_services(Some(batch))
                    .include(ServiceField::Tags)
                    .send()
                    .await
                    .map_err(|e| self.error(op, &what, &e))?;
                Ok(out
                    .services()
                    .iter()
                    .map(convert::service)
                    .collect::<Vec<_>>())
            }
        })
        .await?;
        services.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(services)
    }

    pub(super) async fn list_services(&self, cluster: &str) -> Result<Vec<Service>, SourceError> {
        let arns = self.list_service_arns(cluster).await?;
        self.describe_service_arns(cluster, arns).await
    }

    pub(super) async fn list_tasks(
        &self,
        scope: &TaskScope,
        stopped: bool,
    ) -> Result<Vec<Task>, SourceError> {
        let arns = self.list_task_arns(scope, stopped).await?;
        self.describe_tasks(scope.cluster(), arns).await
    }

    /// Every task ARN of a scope (`ListTasks`, every page of 100), in list order.
    pub(super) async fn list_task_arns(
        &self,
        scope: &TaskScope,
        stopped: bool,
    ) -> Result<Vec<String>, SourceError> {
        let cluster = scope.cluster();
        let mut request = self.ecs.list_tasks().cluster(cluster).max_results(100);
        let what = match scope {
            TaskScope::Service { cluster, service } => {
                request = request.service_name(service);
                format!("service {service} in {cluster}")
            }
            TaskScope::Cluster { cluster } => format!("cluster {cluster}"),
            TaskScope::Instance { cluster, instance } => {
                request = request.container_instance(instance);
                format!("instance {} in {cluster}", arn_tail(instance))
            }
        };
        if stopped {
            request = request.desired_status(DesiredStatus::Stopped);
        }
        let pages = request.into_paginator().send();
        let arns = self
            .all_pages("ecs:ListTasks", &what, pages, |p| p.task_arns)
            .await?;
        Ok(cleaned(arns))
    }

    /// DescribeTasks in batches of 100, then the EC2 ids of their container instances.
    pub(super) async fn describe_tasks(
        &self,
        cluster: &str,
        arns: Vec<String>,
    ) -> Result<Vec<Task>, SourceError> {
        let what = format!("tasks in {cluster}");
        let mut tasks = batched(arns, DESCRIBE_TASKS_MAX, |batch| {
            let what = what.clone();
            async move {
                let op = "ecs:DescribeTasks";
                self.limiter.acquire(op).await;
                let out = self
                    .ecs
                    .describe_tasks()
                    .cluster(cluster)
                    .set_tasks(Some(batch))
                    .include(TaskField::Tags)
                    .send()
                    .await
                    .map_err(|e| self.error(op, &what, &e))?;
                Ok(out.tasks().iter().map(convert::task).collect::<Vec<_>>())
            }
        })
        .await?;
        self.join_ec2_ids(cluster, &mut tasks).await?;
        // Tasks of one service (and of one host) come together: each keeps the text it has in
        // common with the one before, once for the answer instead of once a task.
        for i in 1..tasks.len() {
            let (before, after) = tasks.split_at_mut(i);
            after[0].share_text_with(&before[i - 1]);
        }
        Ok(tasks)
    }

    /// Fills `ec2_instance_id` from the cache, describing only container instances not seen
    /// before (the mapping never changes for an instance's life).
    async fn join_ec2_ids(&self, cluster: &str, tasks: &mut [Task]) -> Result<(), SourceError> {
        let unknown: Vec<String> = {
            let known = self.ec2_ids.lock().unwrap_or_else(|e| e.into_inner());
            let wanted: HashSet<&str> = tasks
                .iter()
                .filter_map(|t| t.container_instance_arn.as_deref())
                .filter(|arn| !known.contains_key(*arn))
                .collect();
            wanted.into_iter().map(str::to_string).collect()
        };
        if !unknown.is_empty() {
            let found = self.describe_container_instances(cluster, unknown).await?;
            self.remember_ec2_ids(&found);
        }
        let known = self.ec2_ids.lock().unwrap_or_else(|e| e.into_inner());
        for task in tasks {
            if let Some(arn) = &task.container_instance_arn {
                task.ec2_instance_id = known.get(arn.as_str()).map(SharedStr::from);
            }
        }
        Ok(())
    }

    async fn describe_container_instances(
        &self,
        cluster: &str,
        arns: Vec<String>,
    ) -> Result<Vec<aws_sdk_ecs::types::ContainerInstance>, SourceError> {
        let what = format!("container instances of {cluster}");
        batched(arns, DESCRIBE_INSTANCES_MAX, |batch| {
            let what = what.clone();
            async move {
                let op = "ecs:DescribeContainerInstances";
                self.limiter.acquire(op).await;
                let out = self
                    .ecs
                    .describe_container_instances()
                    .cluster(cluster)
                    .set_container_instances(Some(batch))
                    .include(ContainerInstanceField::ContainerInstanceHealth)
                    .send()
                    .await
                    .map_err(|e| self.error(op, &what, &e))?;
                Ok(out.container_instances().to_vec())
            }
        })
        .await
    }

    pub(super) async fn list_instances(&self, cluster: &str) -> Result<Vec<Instance>, SourceError> {
        let arns = self.list_instance_arns(cluster).await?;
        self.describe_instance_arns(cluster, arns).await
    }

    /// Every container instance ARN of a cluster (`ListContainerInstances`, every page of
    /// 100), in list order.
    pub(super) async fn list_instance_arns(
        &self,
        cluster: &str,
    ) -> Result<Vec<String>, SourceError> {
        let what = format!("cluster {cluster}");
        let pages = self
            .ecs
            .list_container_instances()
            .cluster(cluster)
            .max_results(100)
            .into_paginator()
            .send();
        let arns = self
            .all_pages("ecs:ListContainerInstances", &what, pages, |p| {
                p.container_instance_arns
            })
            .await?;
        Ok(cleaned(arns))
    }

    /// `DescribeContainerInstances` of these ARNs (batches of 100), joined with EC2's facts of
    /// their hosts, sorted by EC2 instance id.
    pub(super) async fn describe_instance_arns(
        &self,
        cluster: &str,
        arns: Vec<String>,
    ) -> Result<Vec<Instance>, SourceError> {
        let found = self.describe_container_instances(cluster, arns).await?;
        self.remember_ec2_ids(&found);
        let ids: Vec<String> = found
            .iter()
            .filter_map(|ci| ci.ec2_instance_id().map(str::to_string))
            .collect();
        let facts = self.ec2_facts(ids).await;
        let cluster_arn = found
            .first()
            .and_then(|ci| ci.container_instance_arn())
            .map(|ci_arn| cluster_arn_of(ci_arn, cluster))
            .unwrap_or_default();
        let mut instances: Vec<Instance> = found
            .iter()
            .map(|ci| {
                let ec2 = ci.ec2_instance_id().and_then(|id| facts.get(id));
                convert::instance(ci, &cluster_arn, ec2)
            })
            .collect();
        instances.sort_by(|a, b| a.ec2_instance_id.cmp(&b.ec2_instance_id));
        self.add_host_facts(&mut instances).await;
        Ok(instances)
    }

    /// Type, AZ and launch time from EC2. A failure here degrades to the agent's attributes
    /// rather than failing the pane: the ECS data is what the operator came for.
    async fn ec2_facts(&self, ids: Vec<String>) -> HashMap<String, Ec2Facts> {
        let mut facts = HashMap::new();
        for batch in ids.chunks(EC2_DESCRIBE_MAX) {
            let op = "ec2:DescribeInstances";
            let mut pages = self
                .ec2
                .describe_instances()
                .set_instance_ids(Some(batch.to_vec()))
                .into_paginator()
                .send();
            loop {
                self.limiter.acquire(op).await;
                match pages.next().await {
                    Some(Ok(page)) => {
                        for inst in page.reservations().iter().flat_map(|r| r.instances()) {
                            let Some(id) = inst.instance_id() else {
                                continue;
                            };
                            facts.insert(
                                id.to_string(),
                                Ec2Facts {
                                    instance_type: inst
                                        .instance_type()
                                        .map(|t| t.as_str().to_string())
                                        .unwrap_or_default(),
                                    availability_zone: inst
                                        .placement()
                                        .and_then(|p| p.availability_zone())
                                        .unwrap_or_default()
                                        .to_string(),
                                    launched_at: convert::time(inst.launch_time()),
                                    image_id: inst.image_id().unwrap_or_default().to_string(),
                                    subnet_id: inst.subnet_id().unwrap_or_default().to_string(),
                                },
                            );
                        }
                    }
                    Some(Err(e)) => {
                        let _ = self.error(op, "EC2 instances", &e);
                        break;
                    }
                    None => break,
                }
            }
        }
        facts
    }
}

/// ARNs from a list call, drawn as the rows' names until their details come: cleaned like
/// every AWS text.
fn cleaned(arns: Vec<String>) -> Vec<String> {
    arns.iter()
        .map(|arn| crate::sanitize::clean(arn).into_owned())
        .collect()
}

/// `arn:aws:ecs:r:a:container-instance/prod/abc` → `arn:aws:ecs:r:a:cluster/prod`. An
/// old-format ARN (`container-instance/abc`) names no cluster: the one asked about is used.
fn cluster_arn_of(ci_arn: &str, cluster: &str) -> String {
    crate::model::arn::cluster_arn_or(ci_arn, cluster)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cluster_arn_from_a_container_instance_arn() {
        assert_eq!(
            cluster_arn_of(
                "arn:aws:ecs:eu-west-1:1:container-instance/prod/abc",
                "prod"
            ),
            "arn:aws:ecs:eu-west-1:1:cluster/prod"
        );
        assert_eq!(
            cluster_arn_of("arn:aws:ecs:eu-west-1:1:container-instance/abc", "prod"),
            "arn:aws:ecs:eu-west-1:1:cluster/prod"
        );
        assert_eq!(cluster_arn_of("nonsense", "prod"), "");
    }
}
