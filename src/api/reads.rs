//! What the read endpoints for analysts share: the read replica when it has caught up, entity tags
//! from the data stamp (`If-None-Match` answered with 304 before anything is computed), cursor
//! pages, and export bodies streamed in chunks.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use utoipa::IntoParams;

use crate::auth::Principal;
use crate::db::{DbPool, PooledConn, stamp};
use crate::error::{AppError, AppResult};
use crate::service::bodies::{BodyCache, CachedBody};
use crate::state::AppState;

/// The largest page a list returns.
pub const MAX_LIMIT: usize = 5000;
/// The page a client gets without asking for more.
pub const DEFAULT_LIMIT: usize = 100;

/// A page of a list: at most `limit` items after `cursor`.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CursorQuery {
    /// How many items to return, 1 to 5000 (default 100; exports: every item unless given).
    #[param(minimum = 1, maximum = 5000)]
    pub limit: Option<usize>,
    /// Where the page starts: the `next_cursor` of the page before (opaque); none for the first.
    #[param(pattern = "^[0-9a-f]{1,512}$")]
    pub cursor: Option<String>,
}

impl CursorQuery {
    /// The page size: `limit` if given (1 to 5000), else `default`; out of range is a 422.
    pub fn limit_or(&self, default: Option<usize>) -> AppResult<Option<usize>> {
        match self.limit {
            Some(n) if (1..=MAX_LIMIT).contains(&n) => Ok(Some(n)),
            Some(_) => Err(AppError::field(
                "limit",
                format!("limit must be between 1 and {MAX_LIMIT}"),
            )),
            None => Ok(default),
        }
    }

    /// The decoded cursor: the position it was issued at and the key of the item there.
    pub fn position(&self) -> AppResult<Option<Cursor>> {
        self.cursor.as_deref().map(Cursor::decode).transpose()
    }
}

/// Where the next page starts: the index of the last item returned and its key (the key finds
/// the item again if the list has changed in between). Written as lower-case hex, opaque to
/// clients.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    pub index: usize,
    pub key: String,
}

impl Cursor {
    pub fn encode(&self) -> String {
        hex::encode(format!("{}\u{1f}{}", self.index, self.key))
    }

    fn decode(raw: &str) -> AppResult<Self> {
        let bad = || {
            AppError::field(
                "cursor",
                "this is not a cursor this service issued: use the `next_cursor` of a page",
            )
        };
        let text = String::from_utf8(hex::decode(raw).map_err(|_| bad())?).map_err(|_| bad())?;
        let (index, key) = text.split_once('\u{1f}').ok_or_else(bad)?;
        Ok(Self {
            index: index.parse().map_err(|_| bad())?,
            key: key.to_owned(),
        })
    }

    /// The index after the cursor's item in a list of `len` items in a stable order, where
    /// `has_key(i, key)` says whether item `i` has `key`: the item at `index` when its key still
    /// matches, else the item with the key wherever it now is.
    pub fn resume(&self, len: usize, has_key: impl Fn(usize, &str) -> bool) -> AppResult<usize> {
        if self.index < len && has_key(self.index, &self.key) {
            return Ok(self.index + 1);
        }
        (0..len)
            .find(|&i| has_key(i, &self.key))
            .map(|i| i + 1)
            .ok_or_else(|| {
                AppError::field(
                    "cursor",
                    "the cursor points at an item that is no longer in this list; start again without it",
                )
            })
    }
}

/// One page of a list held in memory, in the list's (stable) order.
pub struct Paged {
    /// Indices of the page's items.
    pub items: Vec<usize>,
    /// Items the filter keeps in the whole list.
    pub total: usize,
    pub next_cursor: Option<String>,
}

/// The page of a list of `len` items (those `keeps(i)` keeps) after `cursor`, at most `limit`
/// long (every one when `None`); `key(i)` names item `i` for the next page's cursor.
pub fn page(
    len: usize,
    cursor: Option<&Cursor>,
    limit: Option<usize>,
    keeps: impl Fn(usize) -> bool,
    key: impl Fn(usize) -> String,
) -> AppResult<Paged> {
    let start = match cursor {
        Some(c) => c.resume(len, |i, k| key(i) == k)?,
        None => 0,
    };
    let mut items = Vec::new();
    let mut total = 0;
    let mut more = false;
    for i in 0..len {
        if !keeps(i) {
            continue;
        }
        total += 1;
        if i < start || more {
            continue;
        }
        if limit.is_some_and(|n| items.len() == n) {
            more = true;
            continue;
        }
        items.push(i);
    }
    let next_cursor = items.last().copied().filter(|_| more).map(|index| {
        Cursor {
            index,
            key: key(index),
        }
        .encode()
    });
    Ok(Paged {
        items,
        total,
        next_cursor,
    })
}

/// A list answered as a JSON array, a page at a time when asked: at most `limit` items after
/// `cursor` (every item without `limit`), the next page named in a `Link` header; `key(i)` names
/// item `i` for cursors.
pub fn array_page<T: serde::Serialize>(
    req: &HttpRequest,
    items: &[T],
    q: &CursorQuery,
    key: impl Fn(usize) -> String,
) -> AppResult<HttpResponse> {
    let limit = q.limit_or(None)?;
    let cursor = q.position()?;
    let paged = page(items.len(), cursor.as_ref(), limit, |_| true, key)?;
    let body: Vec<&T> = paged.items.iter().map(|&i| &items[i]).collect();
    let mut out = HttpResponse::Ok();
    if let Some(next) = &paged.next_cursor {
        out.insert_header((header::LINK, next_link(req, next)));
    }
    Ok(out.json(body))
}

/// `Link: <…>; rel="next"`: this request with `cursor` replaced.
pub fn next_link(req: &HttpRequest, cursor: &str) -> String {
    let mut pairs: Vec<(String, String)> =
        serde_urlencoded::from_str(req.query_string()).unwrap_or_default();
    pairs.retain(|(k, _)| k != "cursor");
    pairs.push(("cursor".into(), cursor.into()));
    let query = serde_urlencoded::to_string(&pairs).unwrap_or_default();
    format!("<{}?{query}>; rel=\"next\"", req.path())
}

/// The response for a stored body.
pub fn respond_stored(tag: &str, content_type: &str, cached: CachedBody) -> HttpResponse {
    let mut out = HttpResponse::Ok();
    out.insert_header((header::ETAG, tag.to_owned()))
        .content_type(content_type.to_owned());
    if let Some(link) = cached.link {
        out.insert_header((header::LINK, link));
    }
    out.body(web::Bytes::from_owner(cached.body))
}

/// Serialises `value` as the JSON body of `tag`, keeps it in `cache` and responds with it.
pub fn json_cached<T: serde::Serialize>(
    cache: &BodyCache,
    tag: &str,
    link: Option<String>,
    value: &T,
) -> AppResult<HttpResponse> {
    let body: std::sync::Arc<[u8]> = serde_json::to_vec(value)
        .map_err(AppError::internal)?
        .into();
    let cached = CachedBody { body, link };
    cache.put(tag, cached.clone());
    Ok(respond_stored(tag, "application/json", cached))
}

/// A weak entity tag for a response computed from the data at `stamp`: the stamp, the request
/// (path and query, order of parameters aside) and what the caller may see.
pub fn entity_tag(stamp: i64, req: &HttpRequest, who: &Principal) -> String {
    tag(stamp, &signature(req, who))
}

/// The weak entity tag of a request's `signature` at data stamp `stamp`.
pub fn tag(stamp: i64, signature: &str) -> String {
    format!("W/\"{stamp}-{signature}\"")
}

/// What identifies a request's response at a given data stamp: its path and query (order of
/// parameters aside) and what the caller may see; 16 hex digits.
pub fn signature(req: &HttpRequest, who: &Principal) -> String {
    let mut pairs: Vec<(String, String)> =
        serde_urlencoded::from_str(req.query_string()).unwrap_or_default();
    pairs.sort();
    let mut orgs = who.orgs.clone();
    orgs.sort();
    let mut h = Sha256::new();
    h.update(req.path().as_bytes());
    for (k, v) in &pairs {
        h.update([0]);
        h.update(k.as_bytes());
        h.update([1]);
        h.update(v.as_bytes());
    }
    h.update([2]);
    h.update(format!("{:?}", who.role).as_bytes());
    for o in &orgs {
        h.update([3]);
        h.update(o.as_bytes());
    }
    hex::encode(h.finalize())[..16].to_owned()
}

/// A weak entity tag of a response body (for responses not keyed by the stamp).
pub fn body_tag(body: &[u8]) -> String {
    format!("W/\"b-{}\"", &hex::encode(Sha256::digest(body))[..20])
}

/// Whether the request's `If-None-Match` names `tag` (weak comparison) or is `*`.
pub fn not_modified(req: &HttpRequest, tag: &str) -> bool {
    matches_any(&if_none_match(req), tag)
}

/// The request's `If-None-Match` values (to check inside blocking work, where the request is not
/// at hand).
pub fn if_none_match(req: &HttpRequest) -> Vec<String> {
    req.headers()
        .get_all(header::IF_NONE_MATCH)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|t| t.trim().to_owned())
        .collect()
}

/// Whether `tag` is among `if_none_match` (weak comparison) or that is `*`.
pub fn matches_any(if_none_match: &[String], tag: &str) -> bool {
    let weak = |t: &str| t.trim().trim_start_matches("W/").to_owned();
    let ours = weak(tag);
    if_none_match.iter().any(|t| t == "*" || weak(t) == ours)
}

/// 304 with the tag.
pub fn not_modified_response(tag: &str) -> HttpResponse {
    HttpResponse::NotModified()
        .insert_header((header::ETAG, tag.to_owned()))
        .finish()
}

/// A connection for reads current at `stamp` (read from the primary): the replica's when its
/// stamp has reached `stamp`, else the primary's. A lagging replica is never read as current.
pub fn read_conn(primary: &DbPool, replica: Option<&DbPool>, stamp: i64) -> AppResult<PooledConn> {
    if let Some(replica) = replica {
        match replica.get() {
            Ok(mut conn) => match stamp::current(&mut conn) {
                Ok(s) if s >= stamp => return Ok(conn),
                Ok(s) => tracing::info!(
                    replica = s,
                    primary = stamp,
                    "read replica behind; reading the primary"
                ),
                Err(e) => {
                    tracing::warn!(error = %e, "read replica unreadable; reading the primary")
                }
            },
            Err(e) => tracing::warn!(error = %e, "read replica unreachable; reading the primary"),
        }
    }
    Ok(primary.get()?)
}

/// Runs read-only work for analysts on a connection current at the primary's data stamp (the
/// replica when it has caught up), passing the stamp.
pub async fn with_read_conn<T, F>(state: &web::Data<AppState>, work: F) -> AppResult<T>
where
    F: FnOnce(&mut crate::db::DbConnection, i64) -> AppResult<T> + Send + 'static,
    T: Send + 'static,
{
    let st = state.clone();
    web::block(move || {
        let s = {
            let mut primary = st.pool.get()?;
            stamp::current(&mut primary)?
        };
        let mut conn = read_conn(&st.pool, st.read_pool.as_ref(), s)?;
        work(&mut conn, s)
    })
    .await?
}
