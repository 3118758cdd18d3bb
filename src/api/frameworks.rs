//! Frameworks: versioned questionnaires, created and edited as drafts by admins, then published
//! (immutable).

use crate::api::reads::CursorQuery;
use actix_web::{HttpRequest, HttpResponse, get, post, put, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, Schema, SchemaFormat, SchemaType, Type};
use utoipa::openapi::{Ref, RefOr};
use utoipa::{PartialSchema, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;

use super::{not_found, with_conn};
use crate::api::body::JsonBody;
use crate::api::problems::{
    BadRequest, Conflict, Forbidden, NotFound, PayloadTooLarge, RequestTimeout, Unauthorized,
    Unprocessable, UnsupportedMediaType,
};
use crate::auth::Principal;
use crate::db::audit::{self, NewAuditEvent};
use crate::db::frameworks::{self as store, FrameworkRow};
use crate::db::{DbConnection, now};
use crate::domain::framework::Framework;
use crate::domain::lifecycle::FrameworkStatus;
use crate::error::{AppError, AppResult, FieldError};
use crate::state::AppState;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list)
        .service(get_one)
        .service(create)
        .service(update)
        .service(publish);
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct FrameworkSummary {
    pub key: String,
    pub title: String,
    pub version: String,
    /// `staged` or `scored`.
    pub method: String,
    /// `draft` or `published`.
    pub status: FrameworkStatus,
    pub pillars: usize,
    pub domains: usize,
    pub questions: usize,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub published_at: Option<DateTime<Utc>>,
}

/// A whole framework (the document as saved) with its status.
///
/// Its schema is written out below rather than derived: the derive would give
/// `allOf: [Framework, {status…}]`, and `Framework`, a strict request body, carries
/// `additionalProperties: false`, which no detail (with its `status`) could satisfy.
#[derive(Debug, Serialize, Deserialize)]
pub struct FrameworkDetail {
    pub status: FrameworkStatus,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub published_at: Option<DateTime<Utc>>,
    #[serde(flatten)]
    pub framework: Framework,
}

impl utoipa::PartialSchema for FrameworkDetail {
    /// `Framework`'s members (open to these four more) and the status members.
    fn schema() -> RefOr<Schema> {
        let mut object = match Framework::schema() {
            RefOr::T(Schema::Object(object)) => object,
            // `Framework` derives an object schema; anything else is kept as it is.
            other => return other,
        };
        let date_time = |nullable: bool| {
            let kind = if nullable {
                SchemaType::from_iter([Type::String, Type::Null])
            } else {
                SchemaType::new(Type::String)
            };
            RefOr::T(Schema::Object(
                ObjectBuilder::new()
                    .schema_type(kind)
                    .format(Some(SchemaFormat::KnownFormat(KnownFormat::DateTime)))
                    .build(),
            ))
        };
        object.description =
            Some("A whole framework (the document as saved) with its status.".into());
        object.additional_properties = None;
        object.properties.insert(
            "status".into(),
            RefOr::Ref(Ref::from_schema_name(FrameworkStatus::name())),
        );
        object
            .properties
            .insert("created_at".into(), date_time(false));
        object
            .properties
            .insert("updated_at".into(), date_time(false));
        object
            .properties
            .insert("published_at".into(), date_time(true));
        object
            .required
            .extend(["status", "created_at", "updated_at"].map(String::from));
        RefOr::T(Schema::Object(object))
    }
}

impl ToSchema for FrameworkDetail {
    fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
        schemas.push((Framework::name().into(), Framework::schema()));
        Framework::schemas(schemas);
        schemas.push((FrameworkStatus::name().into(), FrameworkStatus::schema()));
    }
}

fn summary(row: &FrameworkRow) -> AppResult<FrameworkSummary> {
    let f = row.framework().map_err(AppError::internal)?;
    Ok(FrameworkSummary {
        key: row.key.clone(),
        title: row.title.clone(),
        version: row.version.clone(),
        method: row.method.clone(),
        status: row.status,
        pillars: f.pillars.len(),
        domains: f.pillars.iter().map(|p| p.domains.len()).sum(),
        questions: f.question_count(),
        created_at: row.created_at.and_utc(),
        updated_at: row.updated_at.and_utc(),
        published_at: row.published_at.map(|t| t.and_utc()),
    })
}

fn detail(row: FrameworkRow) -> AppResult<FrameworkDetail> {
    Ok(FrameworkDetail {
        framework: row.framework().map_err(AppError::internal)?,
        status: row.status,
        created_at: row.created_at.and_utc(),
        updated_at: row.updated_at.and_utc(),
        published_at: row.published_at.map(|t| t.and_utc()),
    })
}

/// Validates a framework and the frameworks it refers to; every problem reported at once.
pub fn check(conn: &mut DbConnection, f: &Framework) -> AppResult<()> {
    let mut errors: Vec<FieldError> = match f.validate() {
        Ok(()) => Vec::new(),
        Err(problems) => problems
            .into_iter()
            .map(|p| FieldError::new(p.path, p.message))
            .collect(),
    };
    if let Some(carry) = &f.carries_over {
        match store::find(conn, &carry.framework)?.map(|r| r.framework()) {
            Some(Ok(old)) => {
                for (new_key, old_key) in &carry.questions {
                    if old.question(old_key).is_none() {
                        errors.push(FieldError::new(
                            format!("carries_over.questions[\"{new_key}\"]"),
                            format!("`{old_key}` is not a question of `{}`", carry.framework),
                        ));
                    }
                }
            }
            _ => errors.push(FieldError::new(
                "carries_over.framework",
                format!("unknown framework `{}`", carry.framework),
            )),
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(AppError::unprocessable(
            format!("the framework has {} problem(s)", errors.len()),
            errors,
        ))
    }
}

/// List frameworks.
#[utoipa::path(operation_id = "listFrameworks", tag = "frameworks", params(CursorQuery), security(("bearer" = [])), responses(
    (status = 200, description = "Every framework, drafts and published (a page with `limit`)", body = Vec<FrameworkSummary>, headers(("Link" = String, description = "The next page (`rel=\"next\"`) when `limit` cut the list"))),
    (status = 422, response = Unprocessable),
    (status = 401, response = Unauthorized),
))]
#[get("/frameworks")]
async fn list(
    state: web::Data<AppState>,
    req: HttpRequest,
    _who: Principal,
    page: web::Query<CursorQuery>,
) -> AppResult<HttpResponse> {
    let rows = with_conn(&state, |c| Ok(store::list(c)?)).await?;
    let items: Vec<FrameworkSummary> = rows.iter().map(summary).collect::<AppResult<_>>()?;
    super::reads::array_page(&req, &items, &page, |i| items[i].key.clone())
}

/// One framework: the whole tree.
#[utoipa::path(operation_id = "getFramework", tag = "frameworks", params(("key" = String, Path, description = "Framework key", pattern = "^[a-z0-9._-]{1,64}$")), security(("bearer" = [])), responses(
    (status = 200, description = "The framework with its pillars, domains and questions", body = FrameworkDetail),
    (status = 401, response = Unauthorized),
    (status = 404, response = NotFound),
))]
#[get("/frameworks/{key}")]
async fn get_one(
    state: web::Data<AppState>,
    _who: Principal,
    path: web::Path<String>,
) -> AppResult<web::Json<FrameworkDetail>> {
    let key = path.into_inner();
    let row = with_conn(&state, move |c| {
        store::find(c, &key)?.ok_or_else(|| not_found("framework", &key))
    })
    .await?;
    Ok(web::Json(detail(row)?))
}

/// Create a draft framework (admin). Every problem is reported at once with its JSON path.
#[utoipa::path(operation_id = "createFramework", tag = "frameworks", request_body = Framework, security(("bearer" = [])), responses(
    (status = 201, description = "The draft framework as stored", body = FrameworkDetail),
    (status = 400, response = BadRequest),
    (status = 401, response = Unauthorized),
    (status = 403, response = Forbidden),
    (status = 409, response = Conflict),
    (status = 408, response = RequestTimeout),
    (status = 413, response = PayloadTooLarge),
    (status = 415, response = UnsupportedMediaType),
    (status = 422, response = Unprocessable),
))]
#[post("/frameworks")]
async fn create(
    state: web::Data<AppState>,
    who: Principal,
    body: JsonBody,
) -> AppResult<HttpResponse> {
    who.require_admin()?;
    let framework: Framework = body.parse()?;
    let row = with_conn(&state, move |c| {
        check(c, &framework)?;
        let document = serde_json::to_string(&framework).map_err(AppError::internal)?;
        let row = FrameworkRow::new(&framework, document, now());
        crate::db::write_transaction(c, |c| {
            if store::find(c, &row.key)?.is_some() {
                return Err(AppError::Conflict(format!(
                    "framework `{}` already exists",
                    row.key
                )));
            }
            store::insert(c, &row)?;
            let summary = serde_json::json!({ "title": row.title, "version": row.version, "questions": framework.question_count() });
            audit::record(c, &NewAuditEvent::new(&who.actor(), "create", "framework", &row.key, summary))?;
            Ok(row)
        })
    })
    .await?;
    Ok(HttpResponse::Created().json(detail(row)?))
}

/// Replace a draft framework (admin); a published framework is immutable (409).
#[utoipa::path(operation_id = "updateFramework", tag = "frameworks", params(("key" = String, Path, description = "Framework key", pattern = "^[a-z0-9._-]{1,64}$")), request_body = Framework, security(("bearer" = [])), responses(
    (status = 200, description = "The draft framework as replaced", body = FrameworkDetail),
    (status = 400, response = BadRequest),
    (status = 401, response = Unauthorized),
    (status = 403, response = Forbidden),
    (status = 404, response = NotFound),
    (status = 409, response = Conflict),
    (status = 408, response = RequestTimeout),
    (status = 413, response = PayloadTooLarge),
    (status = 415, response = UnsupportedMediaType),
    (status = 422, response = Unprocessable),
))]
#[put("/frameworks/{key}")]
async fn update(
    state: web::Data<AppState>,
    who: Principal,
    path: web::Path<String>,
    body: JsonBody,
) -> AppResult<web::Json<FrameworkDetail>> {
    who.require_admin()?;
    let key = path.into_inner();
    let framework: Framework = body.parse()?;
    let row = with_conn(&state, move |c| {
        let existing = store::find(c, &key)?.ok_or_else(|| not_found("framework", &key))?;
        existing
            .status
            .editable()
            .map_err(|e| AppError::lifecycle(&key, e))?;
        if framework.key != key {
            return Err(AppError::field("key", "the key in the body must match the path"));
        }
        check(c, &framework)?;
        let document = serde_json::to_string(&framework).map_err(AppError::internal)?;
        let mut row = FrameworkRow::new(&framework, document, now());
        row.created_at = existing.created_at;
        crate::db::write_transaction(c, |c| {
            if store::update_draft(c, &row)? == 0 {
                return Err(AppError::Conflict(format!("framework `{key}` was published meanwhile")));
            }
            let summary = serde_json::json!({ "before": { "title": existing.title, "version": existing.version }, "after": { "title": row.title, "version": row.version, "questions": framework.question_count() } });
            audit::record(c, &NewAuditEvent::new(&who.actor(), "update", "framework", &key, summary))?;
            Ok(row)
        })
    })
    .await?;
    Ok(web::Json(detail(row)?))
}

/// Publish a draft framework (admin): from now on it is immutable and rounds may use it.
#[utoipa::path(operation_id = "publishFramework", tag = "frameworks", params(("key" = String, Path, description = "Framework key", pattern = "^[a-z0-9._-]{1,64}$")), security(("bearer" = [])), responses(
    (status = 200, description = "The framework, now published and immutable", body = FrameworkDetail),
    (status = 401, response = Unauthorized),
    (status = 403, response = Forbidden),
    (status = 404, response = NotFound),
    (status = 409, response = Conflict),
))]
#[post("/frameworks/{key}/publish")]
async fn publish(
    state: web::Data<AppState>,
    who: Principal,
    path: web::Path<String>,
) -> AppResult<web::Json<FrameworkDetail>> {
    who.require_admin()?;
    let key = path.into_inner();
    let row = with_conn(&state, move |c| {
        crate::db::write_transaction(c, |c| {
            store::find(c, &key)?.ok_or_else(|| not_found("framework", &key))?;
            if store::publish(c, &key, now())? == 0 {
                return Err(AppError::Conflict(format!(
                    "framework `{key}` is already published"
                )));
            }
            audit::record(
                c,
                &NewAuditEvent::new(
                    &who.actor(),
                    "publish",
                    "framework",
                    &key,
                    serde_json::json!({}),
                ),
            )?;
            store::find(c, &key)?.ok_or_else(|| not_found("framework", &key))
        })
    })
    .await?;
    Ok(web::Json(detail(row)?))
}
