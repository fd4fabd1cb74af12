//! Per-client rate limits (token buckets keyed by the peer address): one for the whole
//! API and a stricter one for the account endpoints that invite guessing (register,
//! login, refresh, logout, password change). Over the limit a request is answered 429
//! with `Retry-After` and goes no further.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::ApiError;

/// Bound on tracked clients; beyond it, full buckets (idle clients) are forgotten.
const MAX_TRACKED: usize = 50_000;

struct Bucket {
    tokens: f64,
    updated: Instant,
}

/// A token bucket per client address refilling `per_minute` tokens a minute.
struct Limiter {
    per_minute: f64,
    buckets: Mutex<HashMap<IpAddr, Bucket>>,
}

impl Limiter {
    fn new(per_minute: u32) -> Self {
        Self {
            per_minute: f64::from(per_minute),
            buckets: Mutex::default(),
        }
    }

    /// Takes a token for `client`; when none is left, the seconds until one is.
    fn take(&self, client: IpAddr, now: Instant) -> Result<(), u32> {
        let mut buckets = self.buckets.lock().expect("rate limit lock");
        if buckets.len() >= MAX_TRACKED {
            let per_second = self.per_minute / 60.0;
            let capacity = self.per_minute;
            buckets.retain(|_, b| {
                b.tokens + now.duration_since(b.updated).as_secs_f64() * per_second < capacity
            });
        }
        let bucket = buckets.entry(client).or_insert(Bucket {
            tokens: self.per_minute,
            updated: now,
        });
        let refill = now.duration_since(bucket.updated).as_secs_f64() * self.per_minute / 60.0;
        bucket.tokens = (bucket.tokens + refill).min(self.per_minute);
        bucket.updated = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            let wait = (1.0 - bucket.tokens) * 60.0 / self.per_minute;
            Err(wait.ceil().max(1.0) as u32)
        }
    }
}

#[derive(Clone)]
pub struct RateLimits {
    all: Arc<Limiter>,
    accounts: Arc<Limiter>,
}

impl RateLimits {
    pub fn new(per_minute: u32, accounts_per_minute: u32) -> Self {
        Self {
            all: Arc::new(Limiter::new(per_minute)),
            accounts: Arc::new(Limiter::new(accounts_per_minute)),
        }
    }
}

pub async fn limit(State(limits): State<RateLimits>, request: Request, next: Next) -> Response {
    // Requests that did not come through a socket (in-process tests) share one bucket.
    let client = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |ConnectInfo(a)| a.ip());
    let now = Instant::now();
    let accounts =
        request.method() == Method::POST && request.uri().path().starts_with("/api/auth/");
    let verdict = limits.all.take(client, now).and_then(|()| {
        if accounts {
            limits.accounts.take(client, now)
        } else {
            Ok(())
        }
    });
    match verdict {
        Ok(()) => next.run(request).await,
        Err(retry_after) => ApiError::TooManyRequests { retry_after }.into_response(),
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn a_bucket_empties_then_refills_with_time() {
        let limiter = Limiter::new(60);
        let (a, b) = (IpAddr::from([10, 0, 0, 1]), IpAddr::from([10, 0, 0, 2]));
        let t0 = Instant::now();
        for _ in 0..60 {
            limiter.take(a, t0).unwrap();
        }
        assert_eq!(limiter.take(a, t0), Err(1));
        // Another client is not affected.
        limiter.take(b, t0).unwrap();
        // One token a second comes back.
        limiter.take(a, t0 + Duration::from_secs(1)).unwrap();
        assert!(limiter.take(a, t0 + Duration::from_secs(1)).is_err());
    }
}
