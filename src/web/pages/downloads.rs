use actix_web::HttpResponse;

use crate::web::WebResult;
use crate::web::session::Viewer;

pub async fn divergence(viewer: Viewer) -> WebResult<HttpResponse> {
    viewer.require_national()?;
    Ok(HttpResponse::Ok().finish())
}
pub async fn areas(viewer: Viewer) -> WebResult<HttpResponse> {
    viewer.require_national()?;
    Ok(HttpResponse::Ok().finish())
}
pub async fn completion(viewer: Viewer) -> WebResult<HttpResponse> {
    viewer.require_national()?;
    Ok(HttpResponse::Ok().finish())
}
