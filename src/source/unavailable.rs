use async_trait::async_trait;

use super::{FleetSource, SourceError};
use std::sync::Arc;

use crate::model::{Cluster, Identity, Instance, Service, Task, TaskDefinition, TaskScope};

/// Stands in when no source could be set up (no region, say): every call answers with the
/// reason, so the console opens, says what is wrong, and can switch region or profile.
pub struct Unavailable(pub SourceError);

#[async_trait]
impl FleetSource for Unavailable {
    async fn identity(&self) -> Result<Identity, SourceError> {
        Err(self.0.clone())
    }
    async fn clusters(&self) -> Result<Vec<Cluster>, SourceError> {
        Err(self.0.clone())
    }
    async fn services(&self, _: &str) -> Result<Vec<Service>, SourceError> {
        Err(self.0.clone())
    }
    async fn tasks(&self, _: &TaskScope, _: bool) -> Result<Vec<Task>, SourceError> {
        Err(self.0.clone())
    }
    async fn task(&self, _: &str, _: &str) -> Result<Option<Task>, SourceError> {
        Err(self.0.clone())
    }
    async fn instances(&self, _: &str) -> Result<Vec<Instance>, SourceError> {
        Err(self.0.clone())
    }
    async fn task_definition(&self, _: &str) -> Result<Arc<TaskDefinition>, SourceError> {
        Err(self.0.clone())
    }
}
