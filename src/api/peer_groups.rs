//! Peer groups (admin CRUD): a named list of organisations of one type, usable as the divergence
//! reference (`reference=peer_group:{key}`). Any valid token may read them.

use crate::api::reads::CursorQuery;
use actix_web::{HttpRequest, HttpResponse, delete, get, post, put, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;
use validator::Validate;

use super::{not_found, validated, with_conn};
use crate::api::body::JsonBody;
use crate::api::problems::{
    BadRequest, Conflict, Forbidden, NotFound, PayloadTooLarge, RequestTimeout, Unauthorized,
    Unprocessable, UnsupportedMediaType,
};
use crate::auth::Principal;
use crate::db::audit::{self, NewAuditEvent};
use crate::db::peer_groups::{self as store, PeerGroupRow};
use crate::db::{DbConnection, now, organisations};
use crate::domain::organisation::OrgType;
use crate::error::{AppError, AppResult, FieldError};
use crate::state::AppState;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list)
        .service(get_one)
        .service(create)
        .service(update)
        .service(remove);
}

fn valid_key(key: &str) -> Result<(), validator::ValidationError> {
    let ok = !key.is_empty()
        && key.len() <= 64
        && key
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "-_".contains(c));
    if ok {
        Ok(())
    } else {
        Err(validator::ValidationError::new("key")
            .with_message("a key is 1 to 64 lower-case letters, digits, '-' or '_'".into()))
    }
}

/// The editable part of a peer group.
#[derive(Debug, Clone, Deserialize, Serialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PeerGroupFields {
    #[validate(length(min = 1, max = 200, message = "title must be 1 to 200 characters"))]
    #[schema(min_length = 1, max_length = 200)]
    pub title: String,
    /// ODS codes, all of one organisation type.
    #[validate(length(min = 1, max = 1000, message = "1 to 1000 members"))]
    #[schema(min_items = 1, max_items = 1000)]
    pub members: Vec<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewPeerGroup {
    #[validate(custom(function = valid_key))]
    #[schema(example = "shelford-group", pattern = "^[a-z0-9_-]{1,64}$")]
    pub key: String,
    #[validate(length(min = 1, max = 200, message = "title must be 1 to 200 characters"))]
    #[schema(min_length = 1, max_length = 200)]
    pub title: String,
    /// ODS codes, all of one organisation type.
    #[validate(length(min = 1, max = 1000, message = "1 to 1000 members"))]
    #[schema(min_items = 1, max_items = 1000)]
    pub members: Vec<String>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct PeerGroup {
    pub key: String,
    pub title: String,
    /// The one organisation type of every member.
    pub org_type: String,
    pub members: Vec<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl TryFrom<PeerGroupRow> for PeerGroup {
    type Error = diesel::result::Error;

    fn try_from(r: PeerGroupRow) -> Result<Self, Self::Error> {
        Ok(Self {
            members: r.member_codes()?,
            key: r.key,
            title: r.title,
            org_type: r.org_type,
            created_at: r.created_at.and_utc(),
            updated_at: r.updated_at.and_utc(),
        })
    }
}

/// Checks the members exist and share one type; returns that type.
fn member_type(conn: &mut DbConnection, members: &[String]) -> AppResult<OrgType> {
    let mut errors = Vec::new();
    let mut types = std::collections::BTreeSet::new();
    let mut seen = std::collections::HashSet::new();
    for (i, ods) in members.iter().enumerate() {
        if !seen.insert(ods) {
            errors.push(FieldError::new(
                format!("members[{i}]"),
                format!("`{ods}` is listed twice"),
            ));
            continue;
        }
        match organisations::find(conn, ods)? {
            Some(o) => {
                types.insert(o.org_type);
            }
            None => errors.push(FieldError::new(
                format!("members[{i}]"),
                format!("unknown organisation `{ods}`"),
            )),
        }
    }
    if types.len() > 1 {
        let found: Vec<String> = types.iter().cloned().collect();
        errors.push(FieldError::new(
            "members",
            format!("members must share one type; found {}", found.join(", ")),
        ));
    }
    if !errors.is_empty() {
        return Err(AppError::unprocessable(
            "the peer group is not valid",
            errors,
        ));
    }
    types
        .into_iter()
        .next()
        .and_then(|t| OrgType::parse(&t))
        .ok_or_else(|| AppError::field("members", "no members"))
}

/// List peer groups.
#[utoipa::path(operation_id = "listPeerGroups", tag = "peer-groups", params(CursorQuery), security(("bearer" = [])), responses(
    (status = 200, description = "Every peer group with its members (a page with `limit`)", body = Vec<PeerGroup>, headers(("Link" = String, description = "The next page (`rel=\"next\"`) when `limit` cut the list"))),
    (status = 422, response = Unprocessable),
    (status = 401, response = Unauthorized),
))]
#[get("/peer-groups")]
async fn list(
    state: web::Data<AppState>,
    req: HttpRequest,
    _who: Principal,
    page: web::Query<CursorQuery>,
) -> AppResult<HttpResponse> {
    let rows = with_conn(&state, |c| Ok(store::list(c)?)).await?;
    let items: Vec<PeerGroup> = rows
        .into_iter()
        .map(PeerGroup::try_from)
        .collect::<Result<_, _>>()?;
    super::reads::array_page(&req, &items, &page, |i| items[i].key.clone())
}

/// One peer group.
#[utoipa::path(operation_id = "getPeerGroup", tag = "peer-groups", params(("key" = String, Path, description = "Peer group key", pattern = "^[a-z0-9_-]{1,64}$")), security(("bearer" = [])), responses(
    (status = 200, description = "The peer group with its members", body = PeerGroup),
    (status = 401, response = Unauthorized),
    (status = 404, response = NotFound),
))]
#[get("/peer-groups/{key}")]
async fn get_one(
    state: web::Data<AppState>,
    _who: Principal,
    path: web::Path<String>,
) -> AppResult<web::Json<PeerGroup>> {
    let key = path.into_inner();
    let row = with_conn(&state, move |c| {
        store::find(c, &key)?.ok_or_else(|| not_found("peer group", &key))
    })
    .await?;
    Ok(web::Json(PeerGroup::try_from(row)?))
}

/// Create a peer group (admin).
#[utoipa::path(operation_id = "createPeerGroup", tag = "peer-groups", request_body = NewPeerGroup, security(("bearer" = [])), responses(
    (status = 201, description = "The peer group as created", body = PeerGroup),
    (status = 400, response = BadRequest),
    (status = 401, response = Unauthorized),
    (status = 403, response = Forbidden),
    (status = 409, response = Conflict),
    (status = 408, response = RequestTimeout),
    (status = 413, response = PayloadTooLarge),
    (status = 415, response = UnsupportedMediaType),
    (status = 422, response = Unprocessable),
))]
#[post("/peer-groups")]
async fn create(
    state: web::Data<AppState>,
    who: Principal,
    body: JsonBody,
) -> AppResult<HttpResponse> {
    who.require_admin()?;
    let input: NewPeerGroup = validated(body.parse()?)?;
    let row = with_conn(&state, move |c| {
        let org_type = member_type(c, &input.members)?;
        let t = now();
        let row = PeerGroupRow {
            key: input.key.clone(),
            title: input.title.trim().to_owned(),
            org_type: org_type.as_str().to_owned(),
            members: serde_json::to_string(&input.members).map_err(AppError::internal)?,
            created_at: t,
            updated_at: t,
        };
        crate::db::write_transaction(c, |c| {
            if store::find(c, &row.key)?.is_some() {
                return Err(AppError::Conflict(format!(
                    "peer group `{}` already exists",
                    row.key
                )));
            }
            store::insert(c, &row)?;
            audit::record(
                c,
                &NewAuditEvent::new(
                    &who.actor(),
                    "create",
                    "peer_group",
                    &row.key,
                    serde_json::json!({ "after": input }),
                ),
            )?;
            Ok(row)
        })
    })
    .await?;
    Ok(HttpResponse::Created().json(PeerGroup::try_from(row)?))
}

/// Replace a peer group's title and members (admin).
#[utoipa::path(operation_id = "updatePeerGroup", tag = "peer-groups", params(("key" = String, Path, description = "Peer group key", pattern = "^[a-z0-9_-]{1,64}$")), request_body = PeerGroupFields, security(("bearer" = [])), responses(
    (status = 200, description = "The peer group as replaced", body = PeerGroup),
    (status = 400, response = BadRequest),
    (status = 401, response = Unauthorized),
    (status = 403, response = Forbidden),
    (status = 404, response = NotFound),
    (status = 408, response = RequestTimeout),
    (status = 413, response = PayloadTooLarge),
    (status = 415, response = UnsupportedMediaType),
    (status = 422, response = Unprocessable),
))]
#[put("/peer-groups/{key}")]
async fn update(
    state: web::Data<AppState>,
    who: Principal,
    path: web::Path<String>,
    body: JsonBody,
) -> AppResult<web::Json<PeerGroup>> {
    who.require_admin()?;
    let key = path.into_inner();
    let fields: PeerGroupFields = validated(body.parse()?)?;
    let row = with_conn(&state, move |c| {
        let before = store::find(c, &key)?.ok_or_else(|| not_found("peer group", &key))?;
        let org_type = member_type(c, &fields.members)?;
        let row = PeerGroupRow {
            key: key.clone(),
            title: fields.title.trim().to_owned(),
            org_type: org_type.as_str().to_owned(),
            members: serde_json::to_string(&fields.members).map_err(AppError::internal)?,
            created_at: before.created_at,
            updated_at: now(),
        };
        crate::db::write_transaction(c, |c| {
            store::update(c, &row)?;
            let summary =
                serde_json::json!({ "before": PeerGroup::try_from(before)?, "after": fields });
            audit::record(
                c,
                &NewAuditEvent::new(&who.actor(), "update", "peer_group", &key, summary),
            )?;
            Ok(row)
        })
    })
    .await?;
    Ok(web::Json(PeerGroup::try_from(row)?))
}

/// Delete a peer group (admin). The audit trail keeps its history.
#[utoipa::path(operation_id = "deletePeerGroup", tag = "peer-groups", params(("key" = String, Path, description = "Peer group key", pattern = "^[a-z0-9_-]{1,64}$")), security(("bearer" = [])), responses(
    (status = 204, description = "The peer group is deleted"),
    (status = 401, response = Unauthorized),
    (status = 403, response = Forbidden),
    (status = 404, response = NotFound),
))]
#[delete("/peer-groups/{key}")]
async fn remove(
    state: web::Data<AppState>,
    who: Principal,
    path: web::Path<String>,
) -> AppResult<HttpResponse> {
    who.require_admin()?;
    let key = path.into_inner();
    with_conn(&state, move |c| {
        crate::db::write_transaction(c, |c| {
            let before = store::find(c, &key)?.ok_or_else(|| not_found("peer group", &key))?;
            store::delete(c, &key)?;
            let summary = serde_json::json!({ "before": PeerGroup::try_from(before)? });
            audit::record(
                c,
                &NewAuditEvent::new(&who.actor(), "delete", "peer_group", &key, summary),
            )?;
            Ok(())
        })
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}
