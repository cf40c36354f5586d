//! A task definition family's revisions: `ListTaskDefinitions`, every page, newest first.

use super::AwsSource;
use crate::model::TaskDefRef;
use crate::source::SourceError;

impl AwsSource {
    /// The ACTIVE revisions of `family`, newest first. `familyPrefix` matches by prefix (`cart`
    /// also lists `cart-api`'s), so only the family's own are kept.
    pub(super) async fn list_revisions(
        &self,
        family: &str,
    ) -> Result<Vec<TaskDefRef>, SourceError> {
        let op = "ecs:ListTaskDefinitions";
        let pages = self
            .ecs
            .list_task_definitions()
            .family_prefix(family)
            .sort(aws_sdk_ecs::types::SortOrder::Desc)
            .into_paginator()
            .send();
        let what = format!("task definition family {family}");
        let arns = self
            .all_pages(op, &what, pages, |page| {
                Some(page.task_definition_arns().to_vec())
            })
            .await?;
        let mut revisions: Vec<TaskDefRef> = arns
            .iter()
            .map(|arn| TaskDefRef::from_arn(&crate::sanitize::clean(arn)))
            .filter(|r| r.family == family)
            .collect();
        // Newest first whatever order the pages came in.
        revisions.sort_by_key(|r| std::cmp::Reverse(r.revision));
        revisions.dedup_by_key(|r| r.revision);
        Ok(revisions)
    }
}
