use actix_web::HttpResponse;

use crate::web::WebResult;
use crate::web::session::Viewer;

pub async fn page(viewer: Viewer) -> WebResult<HttpResponse> {
    viewer.require_national()?;
    Ok(HttpResponse::Ok().finish())
}
