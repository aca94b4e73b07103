//! Call detail records (Core API `GET /calls/call_drs`): one per ended call leg, written by
//! the binary when the leg ends, listed per partner. CarrierX counts none of them (`total` is
//! null) and pages them in `date_stop` order with `after`/`before` a record's SID; ties on
//! `date_stop` are broken by `dr_sid`, so the order is total and a page boundary is exact.

use crate::callbacks::callback_value;
use crate::lists::field;
use crate::query::{
    arguments, compile_filter, compile_order, Bind, Direction, FieldKind, FieldSpec, ListParams,
    SqlFragment,
};
use crate::rows::json_column;
use crate::{new_sid, now_timestamp, Store, StoreError};
use serde::Serialize;
use serde_json::Value;
use sqlx::any::AnyRow;
use sqlx::Row;

/// The Call Detail Record object; keys serialise in alphabetical order.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CallDr {
    pub account_sid: String,
    /// The call's notifications and how their delivery stands (from the outbox).
    pub callbacks: Vec<Value>,
    pub call_sid: String,
    pub date_insert: String,
    pub date_start: String,
    pub date_stop: String,
    pub date_talk: Option<String>,
    pub direction: String,
    pub dr_sid: String,
    /// Whole seconds from answer to hangup; 0 if never answered.
    pub duration: i64,
    pub hangup_by: Option<String>,
    pub number_dst: String,
    pub number_src: String,
    pub original_from: Option<String>,
    pub original_to: Option<String>,
    pub parent_call_sid: Option<String>,
    pub partner_sid: String,
    pub sip_status: Option<i64>,
    /// The final CallStatus: completed, busy, noanswer, failed or cancel.
    pub status: String,
    /// `[{"time", "event"}]`: documents, verbs, digits, errors, callbacks.
    pub timeline: Value,
}

impl<'r> sqlx::FromRow<'r, AnyRow> for CallDr {
    fn from_row(row: &'r AnyRow) -> Result<Self, sqlx::Error> {
        Ok(CallDr {
            account_sid: row.try_get("account_sid")?,
            callbacks: Vec::new(),
            call_sid: row.try_get("call_sid")?,
            date_insert: row.try_get("date_insert")?,
            date_start: row.try_get("date_start")?,
            date_stop: row.try_get("date_stop")?,
            date_talk: row.try_get("date_talk")?,
            direction: row.try_get("direction")?,
            dr_sid: row.try_get("dr_sid")?,
            duration: row.try_get("duration")?,
            hangup_by: row.try_get("hangup_by")?,
            number_dst: row.try_get("number_dst")?,
            number_src: row.try_get("number_src")?,
            original_from: row.try_get("original_from")?,
            original_to: row.try_get("original_to")?,
            parent_call_sid: row.try_get("parent_call_sid")?,
            partner_sid: row.try_get("partner_sid")?,
            sip_status: row.try_get("sip_status")?,
            status: row.try_get("status")?,
            timeline: json_column(row, "timeline")?,
        })
    }
}

/// What the binary knows of a leg when it ends.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct NewCallDr {
    pub call_sid: String,
    pub parent_call_sid: Option<String>,
    pub account_sid: String,
    pub direction: String,
    pub number_src: String,
    pub number_dst: String,
    pub original_from: Option<String>,
    pub original_to: Option<String>,
    pub date_start: String,
    pub date_talk: Option<String>,
    pub date_stop: String,
    pub duration: i64,
    pub status: String,
    pub sip_status: Option<i64>,
    pub hangup_by: Option<String>,
    /// A JSON array of `{"time", "event"}`.
    pub timeline: Value,
}

const DR_COLUMNS: &str = "r.dr_sid, r.call_sid, r.parent_call_sid, r.partner_sid, \
    r.account_sid, r.direction, r.number_src, r.number_dst, r.original_from, r.original_to, \
    r.date_start, r.date_talk, r.date_stop, r.duration, r.status, r.sip_status, r.hangup_by, \
    r.date_insert, r.timeline";

/// The record's fields for filter and order (`timeline` and `callbacks` are shown only).
pub const CALL_DR_FIELDS: &[FieldSpec] = &[
    field("account_sid", "r.account_sid", FieldKind::Text),
    field("call_sid", "r.call_sid", FieldKind::Text),
    field("date_insert", "r.date_insert", FieldKind::Date),
    field("date_start", "r.date_start", FieldKind::Date),
    field("date_stop", "r.date_stop", FieldKind::Date),
    field("date_talk", "r.date_talk", FieldKind::Date),
    field("direction", "r.direction", FieldKind::Text),
    field("dr_sid", "r.dr_sid", FieldKind::Text),
    field("duration", "r.duration", FieldKind::Integer),
    field("hangup_by", "r.hangup_by", FieldKind::Text),
    field("number_dst", "r.number_dst", FieldKind::Text),
    field("number_src", "r.number_src", FieldKind::Text),
    field("original_from", "r.original_from", FieldKind::Text),
    field("original_to", "r.original_to", FieldKind::Text),
    field("parent_call_sid", "r.parent_call_sid", FieldKind::Text),
    field("partner_sid", "r.partner_sid", FieldKind::Text),
    field("sip_status", "r.sip_status", FieldKind::Integer),
    field("status", "r.status", FieldKind::Text),
];

/// Where a page of records starts.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum DrAnchor {
    #[default]
    Start,
    /// The records following this one in the list's order.
    After(String),
    /// The records preceding this one.
    Before(String),
}

/// One page of records, and whether others match outside it on either side.
#[derive(Debug, Clone, PartialEq)]
pub struct DrPage {
    pub items: Vec<CallDr>,
    /// Records follow the page's last item (or, for an empty page, the anchor).
    pub more_after: bool,
    /// Records precede the page's first item.
    pub more_before: bool,
    /// Whether the page is in `date_stop` order, the only one `after`/`before` work in.
    pub keyset: bool,
}

/// The `date_stop` direction of the order asked for, or `None` for another order.
fn keyset_direction(params: &ListParams) -> Option<Direction> {
    match &params.order {
        None => Some(Direction::Asc),
        Some(order) => match order.keys.as_slice() {
            [key] if key.field.to_string() == "date_stop" => Some(key.direction),
            _ => None,
        },
    }
}

fn flip(d: Direction) -> Direction {
    match d {
        Direction::Asc => Direction::Desc,
        Direction::Desc => Direction::Asc,
    }
}

/// `(date_stop, dr_sid)` strictly past the anchor's in direction `d`.
fn past(d: Direction, stop: &str, sid: &str) -> SqlFragment {
    let op = match d {
        Direction::Asc => ">",
        Direction::Desc => "<",
    };
    let mut f = SqlFragment::default();
    f.push_sql(&format!("(r.date_stop {op} "));
    f.push_bind(Bind::Text(stop.into()));
    f.push_sql(" OR (r.date_stop = ");
    f.push_bind(Bind::Text(stop.into()));
    f.push_sql(&format!(" AND r.dr_sid {op} "));
    f.push_bind(Bind::Text(sid.into()));
    f.push_sql("))");
    f
}

fn keyset_order(d: Direction) -> String {
    let k = d.keyword().to_uppercase();
    format!("r.date_stop {k}, r.dr_sid {k}")
}

impl Store {
    /// Stores the record of an ended leg; the partner is the account's. `None` when the
    /// account no longer exists (deleted during the call): there is no one to show it to.
    pub async fn insert_call_dr(&self, new: &NewCallDr) -> Result<Option<CallDr>, StoreError> {
        let partner: Option<String> = sqlx::query_scalar(&self.sql(
            "SELECT e.partner_sid FROM accounts a \
             JOIN endpoints e ON e.endpoint_sid = a.endpoint_sid WHERE a.account_sid = ?",
        ))
        .bind(&new.account_sid)
        .fetch_optional(&self.pool)
        .await?;
        let Some(partner) = partner else {
            return Ok(None);
        };
        let sid = new_sid();
        sqlx::query(&self.sql(
            "INSERT INTO call_drs (dr_sid, call_sid, parent_call_sid, partner_sid, account_sid, \
             direction, number_src, number_dst, original_from, original_to, date_start, \
             date_talk, date_stop, duration, status, sip_status, hangup_by, date_insert, \
             timeline) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        ))
        .bind(&sid)
        .bind(&new.call_sid)
        .bind(&new.parent_call_sid)
        .bind(&partner)
        .bind(&new.account_sid)
        .bind(&new.direction)
        .bind(&new.number_src)
        .bind(&new.number_dst)
        .bind(&new.original_from)
        .bind(&new.original_to)
        .bind(&new.date_start)
        .bind(&new.date_talk)
        .bind(&new.date_stop)
        .bind(new.duration)
        .bind(&new.status)
        .bind(new.sip_status)
        .bind(&new.hangup_by)
        .bind(now_timestamp())
        .bind(new.timeline.to_string())
        .execute(&self.pool)
        .await?;
        self.call_dr(&partner, &sid).await
    }

    /// The partner's record, with its call's callbacks; `None` for another partner's.
    pub async fn call_dr(
        &self,
        partner_sid: &str,
        dr_sid: &str,
    ) -> Result<Option<CallDr>, StoreError> {
        let dr = sqlx::query_as::<_, CallDr>(&self.sql(&format!(
            "SELECT {DR_COLUMNS} FROM call_drs r WHERE r.partner_sid = ? AND r.dr_sid = ?"
        )))
        .bind(partner_sid)
        .bind(dr_sid)
        .fetch_optional(&self.pool)
        .await?;
        let mut items: Vec<CallDr> = dr.into_iter().collect();
        self.attach_callbacks(&mut items).await?;
        Ok(items.pop())
    }

    /// The partner's records in `date_stop` order (oldest first unless `date_stop desc`),
    /// from `anchor` on, filtered and paged; or, for another order, paged by offset only
    /// (then `after`/`before` are refused as `InvalidOrder`). An anchor that is not one of
    /// the partner's records is `UnknownReference` on `after`/`before`.
    pub async fn call_drs(
        &self,
        partner_sid: &str,
        params: &ListParams,
        anchor: &DrAnchor,
    ) -> Result<DrPage, StoreError> {
        let mut scope = SqlFragment::default();
        scope.push_sql("r.partner_sid = ");
        scope.push_bind(Bind::Text(partner_sid.into()));
        if let Some(filter) = &params.filter {
            let filter = compile_filter(filter, CALL_DR_FIELDS, self.dialect)
                .map_err(StoreError::InvalidFilter)?;
            scope.push_sql(" AND (");
            scope.append(filter);
            scope.push_sql(")");
        }
        let Some(direction) = keyset_direction(params) else {
            return self.call_drs_by_offset(scope, params, anchor).await;
        };
        let anchor_key = match anchor {
            DrAnchor::Start => None,
            DrAnchor::After(sid) | DrAnchor::Before(sid) => {
                let field = match anchor {
                    DrAnchor::Before(_) => "before",
                    _ => "after",
                };
                let stop: Option<String> = sqlx::query_scalar(
                    &self
                        .sql("SELECT date_stop FROM call_drs WHERE partner_sid = ? AND dr_sid = ?"),
                )
                .bind(partner_sid)
                .bind(sid)
                .fetch_optional(&self.pool)
                .await?;
                let stop = stop.ok_or_else(|| StoreError::UnknownReference {
                    field,
                    sid: sid.clone(),
                })?;
                Some((stop, sid.clone()))
            }
        };
        // A `before` page is read backwards from the anchor, then turned around.
        let backwards = matches!(anchor, DrAnchor::Before(_));
        let travel = if backwards {
            flip(direction)
        } else {
            direction
        };
        let mut condition = scope.clone();
        if let Some((stop, sid)) = &anchor_key {
            condition.push_sql(" AND ");
            condition.append(past(travel, stop, sid));
        }
        let mut select = SqlFragment::default();
        select.push_sql(&format!("SELECT {DR_COLUMNS} FROM call_drs r WHERE "));
        select.append(condition);
        select.push_sql(&format!(" ORDER BY {} LIMIT ", keyset_order(travel)));
        // One more than the page, to learn whether more follow in the direction of travel.
        select.push_bind(Bind::Integer(params.limit.saturating_add(1)));
        select.push_sql(" OFFSET ");
        select.push_bind(Bind::Integer(params.offset));
        let mut items: Vec<CallDr> = self.fetch_drs(&select).await?;
        let more_travel = items.len() as i64 > params.limit;
        items.truncate(params.limit.max(0) as usize);
        if backwards {
            items.reverse();
        }
        // Whether anything lies on the other side of the page.
        let edge = match (backwards, items.last(), items.first()) {
            (false, _, Some(first)) => Some((first.date_stop.clone(), first.dr_sid.clone())),
            (true, Some(last), _) => Some((last.date_stop.clone(), last.dr_sid.clone())),
            _ => anchor_key.clone(),
        };
        let more_behind = match edge {
            Some((stop, sid)) => {
                let mut exists = SqlFragment::default();
                exists.push_sql("SELECT r.dr_sid FROM call_drs r WHERE ");
                exists.append(scope);
                exists.push_sql(" AND ");
                exists.append(past(flip(travel), &stop, &sid));
                exists.push_sql(" LIMIT 1");
                !self.fetch_sids(&exists).await?.is_empty()
            }
            None => false,
        };
        self.attach_callbacks(&mut items).await?;
        let (more_after, more_before) = match backwards {
            false => (more_travel, more_behind),
            true => (more_behind, more_travel),
        };
        Ok(DrPage {
            items,
            more_after,
            more_before,
            keyset: true,
        })
    }

    async fn call_drs_by_offset(
        &self,
        scope: SqlFragment,
        params: &ListParams,
        anchor: &DrAnchor,
    ) -> Result<DrPage, StoreError> {
        if *anchor != DrAnchor::Start {
            return Err(StoreError::InvalidOrder(
                crate::query::CompileError::BadValue {
                    field: "order".into(),
                    value: params
                        .order
                        .as_ref()
                        .map(|o| o.to_string())
                        .unwrap_or_default(),
                    expected: "date_stop asc or date_stop desc: after and before page \
                               in date_stop order only",
                },
            ));
        }
        let mut select = SqlFragment::default();
        select.push_sql(&format!("SELECT {DR_COLUMNS} FROM call_drs r WHERE "));
        select.append(scope);
        select.push_sql(" ORDER BY ");
        if let Some(order) = &params.order {
            select.append(
                compile_order(order, CALL_DR_FIELDS, self.dialect)
                    .map_err(StoreError::InvalidOrder)?,
            );
            select.push_sql(", ");
        }
        select.push_sql("r.dr_sid ASC LIMIT ");
        select.push_bind(Bind::Integer(params.limit.saturating_add(1)));
        select.push_sql(" OFFSET ");
        select.push_bind(Bind::Integer(params.offset));
        let mut items = self.fetch_drs(&select).await?;
        let more_after = items.len() as i64 > params.limit;
        items.truncate(params.limit.max(0) as usize);
        self.attach_callbacks(&mut items).await?;
        Ok(DrPage {
            items,
            more_after,
            more_before: params.offset > 0,
            keyset: false,
        })
    }

    async fn fetch_drs(&self, select: &SqlFragment) -> Result<Vec<CallDr>, StoreError> {
        Ok(sqlx::query_as_with::<_, CallDr, _>(
            &self.sql(&select.sql),
            arguments(&select.binds).map_err(StoreError::Database)?,
        )
        .fetch_all(&self.pool)
        .await?)
    }

    async fn fetch_sids(&self, select: &SqlFragment) -> Result<Vec<String>, StoreError> {
        Ok(sqlx::query_scalar_with(
            &self.sql(&select.sql),
            arguments(&select.binds).map_err(StoreError::Database)?,
        )
        .fetch_all(&self.pool)
        .await?)
    }

    async fn attach_callbacks(&self, items: &mut [CallDr]) -> Result<(), StoreError> {
        let mut sids: Vec<String> = items.iter().map(|d| d.call_sid.clone()).collect();
        sids.sort();
        sids.dedup();
        for cb in self.callbacks_of(&sids).await? {
            let value = callback_value(&cb);
            for dr in items
                .iter_mut()
                .filter(|d| Some(&d.call_sid) == cb.call_sid.as_ref())
            {
                dr.callbacks.push(value.clone());
            }
        }
        Ok(())
    }
}
