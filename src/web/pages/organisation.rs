use actix_web::{HttpResponse, web};

use crate::web::session::Viewer;
use crate::web::{WebError, WebResult};

/// One organisation's page: national readers, or a submitter for its own organisations (the
/// API's rule for reading an organisation's return).
pub async fn page(viewer: Viewer, ods: web::Path<String>) -> WebResult<HttpResponse> {
    if !viewer.who.may_read_org(&ods) {
        return Err(WebError::Forbidden(
            "This page is for national analysts and administrators, and for the organisation's \
             own submitters."
                .into(),
        ));
    }
    Ok(HttpResponse::Ok().finish())
}
