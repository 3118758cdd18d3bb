//! The front end's static files, compiled into the binary: the vendored NHS.UK frontend (see
//! `web/vendor-nhsuk-frontend.sh` for the version, its licence and the two rewrites that keep it
//! offline) and the service's own CSS and JS. Nothing is fetched from anywhere else.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};

struct Asset {
    path: &'static str,
    content_type: &'static str,
    body: &'static [u8],
}

macro_rules! asset {
    ($path:literal, $file:literal, $ct:literal) => {
        Asset {
            path: $path,
            content_type: $ct,
            body: include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/web/", $file)),
        }
    };
}

const ASSETS: &[Asset] = &[
    asset!(
        "nhsuk-frontend.min.css",
        "vendor/nhsuk-frontend/nhsuk-frontend.min.css",
        "text/css; charset=utf-8"
    ),
    asset!(
        "nhsuk-frontend.min.js",
        "vendor/nhsuk-frontend/nhsuk-frontend.min.js",
        "text/javascript; charset=utf-8"
    ),
    asset!("app.css", "static/app.css", "text/css; charset=utf-8"),
    asset!("app.js", "static/app.js", "text/javascript; charset=utf-8"),
    asset!(
        "init.js",
        "static/init.js",
        "text/javascript; charset=utf-8"
    ),
    asset!(
        "nhsuk/LICENSE",
        "vendor/nhsuk-frontend/LICENSE",
        "text/plain; charset=utf-8"
    ),
    asset!(
        "nhsuk/images/favicon.ico",
        "vendor/nhsuk-frontend/images/favicon.ico",
        "image/x-icon"
    ),
    asset!(
        "nhsuk/images/favicon.svg",
        "vendor/nhsuk-frontend/images/favicon.svg",
        "image/svg+xml"
    ),
    asset!(
        "nhsuk/images/nhsuk-icon-arrow-down.svg",
        "vendor/nhsuk-frontend/images/nhsuk-icon-arrow-down.svg",
        "image/svg+xml"
    ),
    asset!(
        "nhsuk/images/nhsuk-icon-arrow-up.svg",
        "vendor/nhsuk-frontend/images/nhsuk-icon-arrow-up.svg",
        "image/svg+xml"
    ),
    asset!(
        "nhsuk/images/nhsuk-icon-arrow-up-down.svg",
        "vendor/nhsuk-frontend/images/nhsuk-icon-arrow-up-down.svg",
        "image/svg+xml"
    ),
    asset!(
        "nhsuk/images/nhsuk-icon-cross.svg",
        "vendor/nhsuk-frontend/images/nhsuk-icon-cross.svg",
        "image/svg+xml"
    ),
];

/// The version every asset URL carries (`?v=`), so a new binary's files are never read from an
/// old cache.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/assets/{path:.*}", web::get().to(serve)).route(
        "/favicon.ico",
        web::get().to(|| async {
            HttpResponse::MovedPermanently()
                .insert_header((header::LOCATION, "/app/assets/nhsuk/images/favicon.ico"))
                .finish()
        }),
    );
}

async fn serve(req: HttpRequest, path: web::Path<String>) -> HttpResponse {
    let Some(asset) = ASSETS.iter().find(|a| a.path == path.as_str()) else {
        return HttpResponse::NotFound()
            .content_type("text/plain; charset=utf-8")
            .body("no such file");
    };
    let tag = format!("\"{VERSION}-{}\"", asset.body.len());
    let fresh = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == tag));
    let mut res = if fresh {
        HttpResponse::NotModified()
    } else {
        HttpResponse::Ok()
    };
    res.content_type(asset.content_type)
        .insert_header((header::ETAG, tag))
        .insert_header((header::CACHE_CONTROL, "public, max-age=86400"));
    if fresh {
        res.finish()
    } else {
        res.body(asset.body)
    }
}
