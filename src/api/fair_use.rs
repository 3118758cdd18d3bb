//! The HTTP side of fair use: the middleware that counts each request against its caller's rate
//! limit (429 problem+json with `Retry-After` when over), and how the caller is identified: a valid
//! bearer token's subject, otherwise the client address. The limits themselves are in `limits`.

use std::net::IpAddr;
use std::time::Duration;

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::{StatusCode, header};
use actix_web::middleware::Next;
use actix_web::{HttpMessage, ResponseError, web};

use crate::limits::Caller;
use crate::state::AppState;

/// Paths never rate limited: liveness and metrics touch no database, and a probe or scraper that
/// shares an address with busy clients must not be told 429 (a refused liveness probe restarts the
/// process). `/health/ready` takes a database connection and is limited per address like any
/// anonymous request; probes poll far below the anonymous limit.
const EXEMPT: [&str; 2] = ["/health/live", "/metrics"];

/// Refuses (429) a request whose caller is over its rate; otherwise passes it on. A token verified
/// here is kept in the request's extensions, so the `Principal` extractor does not verify it again.
pub async fn rate_limit(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    let state = req.app_data::<web::Data<AppState>>().cloned();
    let delay = state.as_ref().map_or(Duration::ZERO, |s| {
        Duration::from_millis(s.config.fair_use.refusal_delay_ms)
    });
    let refusal = match state {
        Some(state) if state.rate_limits.enabled() && !EXEMPT.contains(&req.path()) => {
            let caller = caller_of(&req, &state);
            state.rate_limits.check(&caller).err()
        }
        _ => None,
    };
    let res = match refusal {
        None => next.call(req).await?.map_into_left_body(),
        Some(err) => req
            .into_response(err.error_response())
            .map_into_right_body(),
    };
    // Every 429 (over the rate, or over the caller's share of expensive work) is held back a
    // little: the waiting costs nothing but the caller's own connection, and a flood that ignores
    // `Retry-After` slows to the pace of its connections instead of spending the CPU other callers
    // need on refusals.
    if res.status() == StatusCode::TOO_MANY_REQUESTS && !delay.is_zero() {
        actix_web::rt::time::sleep(delay).await;
    }
    Ok(res)
}

/// Whom the request counts against: the subject of a valid bearer token, otherwise the client
/// address.
fn caller_of(req: &ServiceRequest, state: &AppState) -> Caller {
    let verified = bearer_token(req.headers()).and_then(|token| state.keys.verify(token).ok());
    match verified {
        Some(principal) => {
            let caller = Caller::Subject(principal.subject.clone());
            req.extensions_mut().insert(principal);
            caller
        }
        None => Caller::Address(client_address(
            req.peer_addr().map(|a| a.ip()),
            req.headers(),
            &state.config.fair_use.trusted_proxies,
        )),
    }
}

/// The token of an `Authorization: Bearer …` header, if there is one.
pub fn bearer_token(headers: &header::HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    // The scheme is case-insensitive (RFC 9110 §11.1): `Bearer`, `bearer`, `BEARER`.
    value
        .trim_start()
        .split_once(' ')
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim())
        .filter(|t| !t.is_empty())
}

/// The client's address. `X-Forwarded-For` is believed only when the peer is a trusted proxy
/// (`DMA_TRUSTED_PROXIES`): the address taken is the right-most one that is not itself a trusted
/// proxy (entries further left are the client's own claim and could be forged). Otherwise, and
/// when the header is missing or malformed, the peer address.
fn client_address(
    peer: Option<IpAddr>,
    headers: &header::HeaderMap,
    trusted: &[IpAddr],
) -> Option<IpAddr> {
    let peer = peer?;
    if !trusted.contains(&peer) {
        return Some(peer);
    }
    let mut hops: Vec<IpAddr> = Vec::new();
    for value in headers.get_all("x-forwarded-for") {
        let Ok(value) = value.to_str() else {
            return Some(peer);
        };
        for hop in value.split(',') {
            match hop.trim().parse::<IpAddr>() {
                Ok(ip) => hops.push(ip),
                Err(_) => return Some(peer),
            }
        }
    }
    hops.into_iter()
        .rev()
        .find(|ip| !trusted.contains(ip))
        .or(Some(peer))
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::http::header::{HeaderMap, HeaderName, HeaderValue};

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(
                HeaderName::from_bytes(k.as_bytes()).unwrap(),
                HeaderValue::from_str(v).unwrap(),
            );
        }
        h
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn forwarded_addresses_are_believed_only_from_trusted_proxies() {
        let xff = headers(&[("x-forwarded-for", "6.6.6.6, 192.0.2.7")]);
        // An untrusted peer: its header is ignored.
        assert_eq!(
            client_address(Some(ip("198.51.100.1")), &xff, &[ip("10.0.0.1")]),
            Some(ip("198.51.100.1"))
        );
        // A trusted peer: the right-most address that is not a trusted proxy, not the forgeable
        // left-most one.
        assert_eq!(
            client_address(Some(ip("10.0.0.1")), &xff, &[ip("10.0.0.1")]),
            Some(ip("192.0.2.7"))
        );
        let chained = headers(&[("x-forwarded-for", "192.0.2.7, 10.0.0.2")]);
        assert_eq!(
            client_address(
                Some(ip("10.0.0.1")),
                &chained,
                &[ip("10.0.0.1"), ip("10.0.0.2")]
            ),
            Some(ip("192.0.2.7"))
        );
        // Malformed or missing: the peer.
        let bad = headers(&[("x-forwarded-for", "192.0.2.7, not-an-ip")]);
        assert_eq!(
            client_address(Some(ip("10.0.0.1")), &bad, &[ip("10.0.0.1")]),
            Some(ip("10.0.0.1"))
        );
        assert_eq!(
            client_address(Some(ip("10.0.0.1")), &HeaderMap::new(), &[ip("10.0.0.1")]),
            Some(ip("10.0.0.1"))
        );
        assert_eq!(client_address(None, &xff, &[]), None);
    }

    #[test]
    fn bearer_tokens_are_read_in_either_case_and_never_empty() {
        assert_eq!(
            bearer_token(&headers(&[("authorization", "Bearer abc ")])),
            Some("abc")
        );
        assert_eq!(
            bearer_token(&headers(&[("authorization", "bearer abc")])),
            Some("abc")
        );
        assert_eq!(
            bearer_token(&headers(&[("authorization", "Bearer  ")])),
            None
        );
        assert_eq!(
            bearer_token(&headers(&[("authorization", "Basic eDp5")])),
            None
        );
        assert_eq!(bearer_token(&HeaderMap::new()), None);
    }
}
