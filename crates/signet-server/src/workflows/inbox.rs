//! The inbox: steps waiting for me (also as a deputy, while someone I stand in for is away),
//! workflows I started, steps I acted on; with filters and counts.

use serde::{Deserialize, Serialize};

use super::store::{self, Step};
use crate::error::ApiResult;
use crate::state::AppState;
use crate::users::{Role, User};

/// Which box.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Box {
    /// Waiting for me (myself or as deputy).
    #[default]
    Waiting,
    /// Waiting for me as someone's deputy only.
    Deputy,
    /// Workflows I started.
    Sent,
    /// Steps I acted on.
    Done,
}

/// Filters.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Query {
    /// Which box (default `waiting`).
    #[serde(rename = "box")]
    pub which: Option<Box>,
    /// Documents of this type only.
    #[serde(rename = "type")]
    pub doc_type: Option<String>,
    /// Text in the title or number.
    pub q: Option<String>,
    /// At most this many (default 100, at most 500).
    pub limit: Option<i64>,
}

/// One line of the inbox.
#[derive(Clone, Debug, Serialize)]
pub struct Item {
    /// The workflow.
    pub workflow_id: String,
    /// Its state.
    pub workflow_state: String,
    /// The document.
    pub document: DocumentLine,
    /// The step (waiting and done boxes).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub step: Option<Step>,
    /// Whose step it is, when I act as their deputy.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub as_deputy_of: Option<String>,
}

/// The document as a line.
#[derive(Clone, Debug, Serialize)]
pub struct DocumentLine {
    /// Id.
    pub id: String,
    /// Title.
    pub title: String,
    /// Number.
    pub number: String,
    /// Type.
    #[serde(rename = "type")]
    pub doc_type: String,
}

/// The counts of each box.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Counts {
    /// Waiting for me (also as deputy).
    pub waiting: usize,
    /// Of those, as deputy.
    pub deputy: usize,
    /// Started by me and in progress.
    pub sent: usize,
    /// Acted on by me.
    pub done: usize,
}

/// Whether `me` may act on a waiting step, and for whom.
struct Mine {
    groups: Vec<String>,
    represented: Vec<String>,
    roles: Vec<Role>,
}

impl Mine {
    async fn of(state: &AppState, me: &User) -> ApiResult<Mine> {
        let now = state.now();
        let mut groups = crate::groups::of_user(&state.db, &me.id).await?;
        let represented = crate::absences::represented_by(&state.db, &me.id, now).await?;
        for r in &represented {
            groups.extend(crate::groups::of_user(&state.db, r).await?);
        }
        Ok(Mine {
            groups,
            represented,
            roles: me.roles.clone(),
        })
    }

    /// `Some(None)`: mine; `Some(Some(x))`: mine as x's deputy; `None`: not mine.
    async fn judge(&self, state: &AppState, me: &User, s: &Step) -> ApiResult<Option<Option<String>>> {
        Ok(match s.assignee_kind.as_str() {
            "author" | "manager" | "user" if s.assignee == me.id => Some(None),
            "author" | "manager" | "user" if self.represented.contains(&s.assignee) => Some(Some(s.assignee.clone())),
            "group" if self.groups.contains(&s.assignee) => {
                let members = crate::groups::members(&state.db, &s.assignee).await?;
                if members.contains(&me.id) {
                    Some(None)
                } else {
                    members.into_iter().find(|m| self.represented.contains(m)).map(Some)
                }
            }
            "role" if Role::parse(&s.assignee).is_some_and(|r| self.roles.contains(&r)) => Some(None),
            _ => None,
        })
    }
}

async fn line(state: &AppState, workflow_id: &str) -> ApiResult<Option<(String, DocumentLine)>> {
    let Some(w) = store::get(&state.db, workflow_id).await? else {
        return Ok(None);
    };
    let d = crate::documents::get(state, &w.document_id).await?;
    Ok(Some((
        w.state,
        DocumentLine {
            id: d.id,
            title: d.title,
            number: d.number,
            doc_type: d.doc_type,
        },
    )))
}

fn passes(q: &Query, d: &DocumentLine) -> bool {
    if q.doc_type.as_ref().is_some_and(|t| *t != d.doc_type) {
        return false;
    }
    match q.q.as_deref().map(str::to_lowercase) {
        Some(text) if !text.is_empty() => {
            d.title.to_lowercase().contains(&text) || d.number.to_lowercase().contains(&text)
        }
        _ => true,
    }
}

/// One box of `me`'s inbox.
pub async fn list(state: &AppState, me: &User, q: &Query) -> ApiResult<Vec<Item>> {
    let limit = usize::try_from(q.limit.unwrap_or(100).clamp(1, 500)).unwrap_or(100);
    let mut out = Vec::new();
    match q.which.unwrap_or_default() {
        b @ (Box::Waiting | Box::Deputy) => {
            let mine = Mine::of(state, me).await?;
            for (wid, s) in store::steps_in_state(&state.db, "waiting").await? {
                let Some(deputy) = mine.judge(state, me, &s).await? else {
                    continue;
                };
                if b == Box::Deputy && deputy.is_none() {
                    continue;
                }
                // Four eyes: an author's own document waits for others, but for their own step.
                if s.assignee_kind != "author"
                    && store::author_of(&state.db, &wid).await?.as_deref() == Some(me.id.as_str())
                {
                    continue;
                }
                let Some((ws, d)) = line(state, &wid).await? else {
                    continue;
                };
                if passes(q, &d) {
                    out.push(Item {
                        workflow_id: wid,
                        workflow_state: ws,
                        document: d,
                        step: Some(s),
                        as_deputy_of: deputy,
                    });
                }
                if out.len() >= limit {
                    break;
                }
            }
        }
        Box::Sent => {
            for w in store::started_by(&state.db, &me.id, 500).await? {
                let Some((ws, d)) = line(state, &w.id).await? else {
                    continue;
                };
                if passes(q, &d) {
                    out.push(Item {
                        workflow_id: w.id,
                        workflow_state: ws,
                        document: d,
                        step: None,
                        as_deputy_of: None,
                    });
                }
                if out.len() >= limit {
                    break;
                }
            }
        }
        Box::Done => {
            for (wid, s) in store::acted_by(&state.db, &me.id, 500).await? {
                let Some((ws, d)) = line(state, &wid).await? else {
                    continue;
                };
                if passes(q, &d) {
                    let deputy = s.acting_for.clone();
                    out.push(Item {
                        workflow_id: wid,
                        workflow_state: ws,
                        document: d,
                        step: Some(s),
                        as_deputy_of: deputy,
                    });
                }
                if out.len() >= limit {
                    break;
                }
            }
        }
    }
    Ok(out)
}

/// How many items each box holds.
pub async fn counts(state: &AppState, me: &User) -> ApiResult<Counts> {
    let all = |which| Query {
        which: Some(which),
        limit: Some(500),
        ..Default::default()
    };
    let waiting = list(state, me, &all(Box::Waiting)).await?;
    let sent = list(state, me, &all(Box::Sent)).await?;
    Ok(Counts {
        deputy: waiting.iter().filter(|i| i.as_deputy_of.is_some()).count(),
        waiting: waiting.len(),
        sent: sent
            .iter()
            .filter(|i| i.workflow_state == "in_progress" || i.workflow_state == "returned")
            .count(),
        done: store::acted_by(&state.db, &me.id, 500).await?.len(),
    })
}
