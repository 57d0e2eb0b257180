//! What may commit together with an audit entry: a signed document version, or a change of a
//! workflow. The audit writer runs it in the entry's transaction ([`crate::audit::Attachment`]),
//! so the entry exists if and only if the change does.

use crate::audit::{Attachment, BatchStatement};
use crate::db::Backend;
use crate::documents::NewVersion;
use crate::error::ApiError;
use crate::workflows::transition::Transition;

/// A change committed with its audit entry.
#[derive(Clone, Debug)]
pub enum Change {
    /// A new document version (a signature).
    Version(NewVersion),
    /// A workflow's change.
    Workflow(Transition),
}

impl Attachment for Change {
    async fn write(
        &self,
        conn: &mut sqlx::AnyConnection,
        at: i64,
        backend: Backend,
    ) -> Result<Result<i64, ApiError>, sqlx::Error> {
        match self {
            Change::Version(v) => v.write(conn, at, backend).await,
            Change::Workflow(t) => t.write(conn).await,
        }
    }

    fn expected_number(&self) -> i64 {
        match self {
            Change::Version(v) => v.expected_number(),
            Change::Workflow(_) => 0,
        }
    }

    /// Versions only: PostgreSQL's one-statement batch; a batch with a workflow change goes the
    /// transactional way.
    fn one_statement(items: &[&Self], at: i64) -> Option<BatchStatement> {
        let mut versions = Vec::with_capacity(items.len());
        for i in items {
            match i {
                Change::Version(v) => versions.push(v),
                Change::Workflow(_) => return None,
            }
        }
        NewVersion::one_statement(&versions, at)
    }
}
