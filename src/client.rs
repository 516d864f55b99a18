//! Blocking Stripe API client over ureq 3: auth headers, retries with
//! backoff, interruptible waits, error decoding and list pagination.
//!
//! No pgrx here. Postgres cancellation reaches us only through the
//! `interrupt` callback, which may unwind: it is only ever called while no
//! lock is held and no response is half-read, so unwinding leaves nothing
//! behind. Each attempt runs on a helper thread while the caller waits and
//! calls `interrupt` every [`POLL`], so a cancel ends even a request that is
//! still on the wire within a tick (the helper finishes on its own, bounded
//! by the timeout, and its answer is dropped).
//!
//! Every list page is checked by a `Walk` (`client/walk.rs`) before its cursor is
//! followed; every string an error carries is scrubbed of the key (`client/scrub.rs`).

// ApiError is large by design (full context for a readable message), and
// errors are rare next to the network round trip, so boxing buys nothing.
#![allow(clippy::result_large_err)]

mod http_date;
pub mod scrub;
mod walk;

use crate::form;
use crate::retry::{parse_retry_after, Decision, Jitter, RetryPolicy};
use scrub::{redacted, scrub};
use serde::de::{Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use std::fmt;
use std::marker::PhantomData;
use std::sync::mpsc::{sync_channel, RecvTimeoutError};
use std::time::Duration;
pub use walk::{Walk, WalkState, CURSOR_MEMORY};

pub const DEFAULT_API_BASE: &str = "https://api.stripe.com";
/// The version the bundled OpenAPI spec (and so the typed tables) describe.
pub const DEFAULT_API_VERSION: &str = "2023-08-16";
/// Large expanded list pages are a few MB; this only stops runaway bodies.
const MAX_BODY: u64 = 64 << 20;
/// Longest sleep between two `interrupt()` checks.
const SLICE: Duration = Duration::from_millis(100);
/// Longest wait for an attempt's answer between two `interrupt()` checks.
const POLL: Duration = Duration::from_millis(50);
/// How much of a non-JSON error body goes into the message.
const SUMMARY_CHARS: usize = 200;

#[derive(Clone)]
pub struct ClientConfig {
    pub api_base: String,
    pub api_key: String,
    /// Sent as `Stripe-Version`; empty means the account's default version.
    pub api_version: String,
    /// Global timeout of one attempt (connect + send + read).
    pub timeout: Duration,
    pub retry: RetryPolicy,
    pub user_agent: String,
    /// A connected account to act on (`Stripe-Account`), with the platform's key.
    pub account: Option<String>,
}

impl ClientConfig {
    pub fn new(api_key: impl Into<String>) -> ClientConfig {
        ClientConfig {
            api_base: DEFAULT_API_BASE.to_owned(),
            api_key: api_key.into(),
            api_version: DEFAULT_API_VERSION.to_owned(),
            timeout: Duration::from_secs(60),
            retry: RetryPolicy::default(),
            user_agent: concat!("djstripe_pg/", env!("CARGO_PKG_VERSION")).to_owned(),
            account: None,
        }
    }
}

impl fmt::Debug for ClientConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientConfig")
            .field("api_base", &self.api_base)
            .field("api_key", &redacted(&self.api_key))
            .field("api_version", &self.api_version)
            .field("timeout", &self.timeout)
            .field("retry", &self.retry)
            .field("user_agent", &self.user_agent)
            .finish()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// Stripe answered with its JSON error object.
    Stripe,
    /// Error status with a body that is not Stripe's (proxy page, plain text).
    Http,
    /// Connection failure, timeout or broken body.
    Network,
    /// 2xx, but not the JSON we expected.
    Decode,
    /// A list page that contradicts itself or the walk's pages before it (`Walk`): the list
    /// cannot be read to its end, and must never be taken as complete.
    Contradiction,
}

/// A failed call. All strings are scrubbed of the API key.
#[derive(Debug, Clone)]
pub struct ApiError {
    pub kind: ErrorKind,
    pub status: Option<u16>,
    pub message: String,
    pub error_type: Option<String>,
    pub code: Option<String>,
    pub param: Option<String>,
    pub request_id: Option<String>,
    pub attempts: u32,
    pub method: String,
    pub path: String,
}

impl ApiError {
    pub(crate) fn new(kind: ErrorKind, status: Option<u16>, message: String) -> ApiError {
        ApiError {
            kind,
            status,
            message,
            error_type: None,
            code: None,
            param: None,
            request_id: None,
            attempts: 0,
            method: String::new(),
            path: String::new(),
        }
    }
}

/// How Stripe words a request that is wrong, not refused: a failure to report, never a reason
/// to skip the type (a typo in `stripe.api_base` or `stripe.api_version` would otherwise have
/// every type "skipped").
const WRONG_REQUEST: [&str; 3] = [
    "Unrecognized request URL",
    "Invalid Stripe API version",
    "Invalid API version",
];

impl ApiError {
    /// Whether Stripe refused a list because this account or key may not use the product
    /// (Connect, Issuing, a restricted key without that permission): a 403, or a 400 / 404
    /// `invalid_request_error` that names no parameter, code or wrong URL or version. An unknown
    /// parameter, an idempotency error, a proxy's page or anything else is a failure.
    pub fn refuses_the_product(&self) -> bool {
        if self.kind != ErrorKind::Stripe {
            return false;
        }
        match self.status {
            Some(403) => true,
            Some(400 | 404) => {
                self.error_type.as_deref() == Some("invalid_request_error")
                    && self.code.is_none()
                    && self.param.is_none()
                    && !WRONG_REQUEST.iter().any(|m| self.message.starts_with(m))
            }
            _ => false,
        }
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self.kind {
            ErrorKind::Stripe => "Stripe API error",
            ErrorKind::Http => "HTTP error",
            ErrorKind::Network => "network error",
            ErrorKind::Decode => "unexpected Stripe response",
            ErrorKind::Contradiction => "contradictory list page",
        })?;
        if let Some(s) = self.status {
            write!(f, " {s}")?;
        }
        // Empty for an error made outside a client (a `Walk` not run by `Pager`/`Prefetcher`).
        if !self.method.is_empty() {
            write!(f, " on {} {}", self.method, self.path)?;
        }
        let mut details: Vec<String> = self.error_type.iter().cloned().collect();
        details.extend(self.code.iter().map(|c| format!("code {c}")));
        details.extend(self.param.iter().map(|p| format!("param {p}")));
        if !details.is_empty() {
            write!(f, " ({})", details.join(", "))?;
        }
        write!(f, ": {}", self.message)?;
        if let Some(id) = &self.request_id {
            write!(f, " [request {id}]")?;
        }
        if self.attempts > 1 {
            write!(f, " after {} attempts", self.attempts)?;
        }
        Ok(())
    }
}

impl std::error::Error for ApiError {}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Method {
    Get,
    Post,
    Delete,
}

impl Method {
    fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Delete => "DELETE",
        }
    }
}

/// A successful (2xx) exchange.
struct Reply {
    body: String,
    status: u16,
    request_id: Option<String>,
    attempts: u32,
    /// The `Date` header, as a unix time.
    date: Option<i64>,
    /// When the attempt that got this reply started (unix time).
    started_at: f64,
}

/// A failed attempt plus what the retry decision needs.
struct Failure {
    error: ApiError,
    /// Status for `should_retry`: `None` for transport failures.
    retry_status: Option<u16>,
    should_retry: Option<bool>,
    retry_after: Option<Duration>,
}

#[derive(Clone)]
pub struct Client {
    cfg: ClientConfig,
    agent: ureq::Agent,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("cfg", &self.cfg)
            .finish_non_exhaustive()
    }
}

impl Client {
    pub fn new(cfg: ClientConfig) -> Client {
        let agent = ureq::Agent::config_builder()
            .timeout_global(Some(cfg.timeout))
            .http_status_as_error(false)
            // Stripe never redirects; following one could leak the key elsewhere.
            .max_redirects(0)
            .build()
            .new_agent();
        Client { cfg, agent }
    }

    pub fn config(&self) -> &ClientConfig {
        &self.cfg
    }

    /// The same client acting on a connected account (`Stripe-Account: acct_…`), as Connect
    /// platforms reach their accounts' objects with their own key; None or "" is the platform.
    pub fn for_account(&self, account: Option<&str>) -> Client {
        let mut c = self.clone();
        c.cfg.account = account.filter(|a| !a.is_empty()).map(str::to_string);
        c
    }

    /// GET `path?query`; returns the 2xx body, checked to be JSON.
    pub fn get(&self, path: &str, query: &str, interrupt: &dyn Fn()) -> Result<String, ApiError> {
        let reply = self.execute(Method::Get, path, query, None, None, interrupt)?;
        self.json_body(reply, Method::Get, path)
    }

    /// POST a form body. Without `idempotency_key` one is generated, so that
    /// retries after a lost response cannot create an object twice.
    pub fn post(
        &self,
        path: &str,
        form_body: &str,
        idempotency_key: Option<&str>,
        interrupt: &dyn Fn(),
    ) -> Result<String, ApiError> {
        let reply = self.execute(
            Method::Post,
            path,
            "",
            Some(form_body),
            idempotency_key,
            interrupt,
        )?;
        self.json_body(reply, Method::Post, path)
    }

    pub fn delete(&self, path: &str, interrupt: &dyn Fn()) -> Result<String, ApiError> {
        let reply = self.execute(Method::Delete, path, "", None, None, interrupt)?;
        self.json_body(reply, Method::Delete, path)
    }

    /// Fetch one page of a list endpoint (`/v1/customers`, or a list's `url`).
    pub fn list_page(
        &self,
        path: &str,
        params: &ListParams,
        starting_after: Option<&str>,
        interrupt: &dyn Fn(),
    ) -> Result<Page, ApiError> {
        let query = params.query(starting_after);
        let reply = self.execute(Method::Get, path, &query, None, None, interrupt)?;
        match serde_json::from_str::<Envelope>(&reply.body) {
            Ok(env) => Ok(Page::read(reply, env)),
            Err(e) => {
                Err(self.decode_error(&reply, Method::Get, path, &format!("not a list: {e}")))
            }
        }
    }

    /// Iterate over all pages of a list endpoint, checked by a `Walk` named after the path.
    pub fn pager(&self, path: &str, params: ListParams) -> Pager<'_> {
        self.walk_pager(path, params, Walk::new(path))
    }

    /// Iterate over all pages of a list endpoint, each checked by `walk`.
    pub fn walk_pager(&self, path: &str, params: ListParams, walk: Walk) -> Pager<'_> {
        Pager {
            client: self,
            path: path.to_owned(),
            params,
            cursor: None,
            walk,
            done: false,
        }
    }

    /// An error found in a list page after it arrived (a `Walk` contradiction), with the
    /// request's method and path, and scrubbed of the key like every other: the ids it quotes
    /// come from the response.
    pub fn list_error(&self, e: ApiError, path: &str) -> ApiError {
        let attempts = e.attempts;
        self.finish(e, attempts, Method::Get, path)
    }

    fn json_body(&self, reply: Reply, method: Method, path: &str) -> Result<String, ApiError> {
        match serde_json::from_str::<serde::de::IgnoredAny>(&reply.body) {
            Ok(_) => Ok(reply.body),
            Err(_) => {
                let msg = format!(
                    "expected JSON, got: {}",
                    summarize(&scrub(&reply.body, &self.cfg.api_key))
                );
                Err(self.decode_error(&reply, method, path, &msg))
            }
        }
    }

    fn decode_error(&self, reply: &Reply, method: Method, path: &str, msg: &str) -> ApiError {
        let mut e = ApiError::new(ErrorKind::Decode, Some(reply.status), msg.to_owned());
        e.request_id = reply.request_id.clone();
        self.finish(e, reply.attempts, method, path)
    }

    /// The retry loop. `interrupt` runs before every attempt, while waiting for its answer
    /// and between sleep slices.
    fn execute(
        &self,
        method: Method,
        path: &str,
        query: &str,
        body: Option<&str>,
        idempotency_key: Option<&str>,
        interrupt: &dyn Fn(),
    ) -> Result<Reply, ApiError> {
        let url = self.url(path, query);
        let policy = &self.cfg.retry;
        let mut rng = Jitter::from_time();
        let generated;
        let idempotency_key = match (method, idempotency_key) {
            (Method::Post, None) => {
                generated = format!("djstripe-pg-{:016x}{:016x}", rng.next_u64(), rng.next_u64());
                Some(generated.as_str())
            }
            (_, key) => key,
        };
        let mut attempt = 0;
        loop {
            interrupt();
            attempt += 1;
            match self.attempt_aside(method, &url, body, idempotency_key, interrupt) {
                Ok(mut reply) => {
                    reply.attempts = attempt;
                    return Ok(reply);
                }
                Err(f) => {
                    if policy.decide(attempt, f.retry_status, f.should_retry) == Decision::Stop {
                        return Err(self.finish(f.error, attempt, method, path));
                    }
                    sleep_interruptibly(policy.delay(attempt, f.retry_after, &mut rng), interrupt);
                }
            }
        }
    }

    /// One attempt on a helper thread, so that the calling thread can run `interrupt` every
    /// [`POLL`] while the request is on the wire. If `interrupt` unwinds, the helper runs on
    /// to the end of its attempt (the agent's timeout bounds it) and its result is dropped.
    fn attempt_aside(
        &self,
        method: Method,
        url: &str,
        body: Option<&str>,
        idem: Option<&str>,
        interrupt: &dyn Fn(),
    ) -> Result<Reply, Failure> {
        let (tx, rx) = sync_channel(1);
        let client = self.clone();
        let (url, body, idem) = (
            url.to_owned(),
            body.map(str::to_owned),
            idem.map(str::to_owned),
        );
        let spawned = std::thread::Builder::new()
            .name("djstripe_pg http".into())
            .spawn(move || {
                block_signals();
                // The caller may be gone (cancelled): then nobody wants the answer.
                let _ = tx.send(client.attempt(method, &url, body.as_deref(), idem.as_deref()));
            });
        if let Err(e) = spawned {
            // Out of threads or memory, which can pass: worth a retry.
            return Err(local_failure(
                format!("starting the request thread: {e}"),
                None,
            ));
        }
        loop {
            match rx.recv_timeout(POLL) {
                Ok(result) => return result,
                Err(RecvTimeoutError::Timeout) => interrupt(),
                // The helper panicked (a bug in the HTTP stack): retrying would hit it again.
                Err(RecvTimeoutError::Disconnected) => {
                    let message =
                        "the request thread stopped without an answer (see the server log)";
                    return Err(local_failure(message.to_owned(), Some(false)));
                }
            }
        }
    }

    fn attempt(
        &self,
        method: Method,
        url: &str,
        body: Option<&str>,
        idem: Option<&str>,
    ) -> Result<Reply, Failure> {
        let started_at = unix_now();
        let sent = match method {
            Method::Get => self.headers(self.agent.get(url), None).call(),
            Method::Delete => self.headers(self.agent.delete(url), None).call(),
            Method::Post => self
                .headers(self.agent.post(url), idem)
                .content_type("application/x-www-form-urlencoded")
                .send(body.unwrap_or("")),
        };
        let mut resp = sent.map_err(transport_failure)?;
        let status = resp.status().as_u16();
        let header = |name: &str| {
            let v = resp.headers().get(name)?.to_str().ok()?;
            Some(v.trim().to_owned())
        };
        let request_id = header("request-id");
        let date = header("date").and_then(|v| http_date::parse(&v));
        let retry_after = header("retry-after").and_then(|v| parse_retry_after(&v));
        let should_retry = header("stripe-should-retry").and_then(|v| v.parse::<bool>().ok());
        let text = match resp
            .body_mut()
            .with_config()
            .limit(MAX_BODY)
            .lossy_utf8(true)
            .read_to_string()
        {
            Ok(t) => t,
            Err(e) => {
                let mut f = transport_failure(e);
                f.error.status = Some(status);
                f.error.request_id = request_id;
                f.error.message = format!("reading response body: {}", f.error.message);
                return Err(f);
            }
        };
        if (200..300).contains(&status) {
            return Ok(Reply {
                body: text,
                status,
                request_id,
                attempts: 0,
                date,
                started_at,
            });
        }
        let mut error = self.error_from_body(status, &text);
        error.request_id = request_id;
        Err(Failure {
            error,
            retry_status: Some(status),
            should_retry,
            retry_after,
        })
    }

    fn headers<B>(
        &self,
        rb: ureq::RequestBuilder<B>,
        idem: Option<&str>,
    ) -> ureq::RequestBuilder<B> {
        let mut rb = rb
            .header("Authorization", format!("Bearer {}", self.cfg.api_key))
            .header("User-Agent", self.cfg.user_agent.as_str());
        if !self.cfg.api_version.is_empty() {
            rb = rb.header("Stripe-Version", self.cfg.api_version.as_str());
        }
        if let Some(account) = &self.cfg.account {
            rb = rb.header("Stripe-Account", account.as_str());
        }
        if let Some(key) = idem {
            rb = rb.header("Idempotency-Key", key);
        }
        rb
    }

    fn error_from_body(&self, status: u16, text: &str) -> ApiError {
        #[derive(Deserialize)]
        struct Envelope {
            error: Body,
        }
        #[derive(Deserialize)]
        struct Body {
            message: Option<String>,
            #[serde(rename = "type")]
            error_type: Option<String>,
            code: Option<String>,
            param: Option<String>,
        }
        match serde_json::from_str::<Envelope>(text) {
            Ok(Envelope { error: b }) => {
                let message = b.message.unwrap_or_else(|| "(no message)".to_owned());
                let mut e = ApiError::new(ErrorKind::Stripe, Some(status), message);
                (e.error_type, e.code, e.param) = (b.error_type, b.code, b.param);
                e
            }
            // Scrub before truncating, or a cut-off key would slip through.
            Err(_) => ApiError::new(
                ErrorKind::Http,
                Some(status),
                summarize(&scrub(text, &self.cfg.api_key)),
            ),
        }
    }

    /// Fill in the request context and scrub every string of the key.
    fn finish(&self, mut e: ApiError, attempts: u32, method: Method, path: &str) -> ApiError {
        let key = &self.cfg.api_key;
        e.attempts = attempts;
        e.method = method.as_str().to_owned();
        e.path = scrub(path, key);
        e.message = scrub(&e.message, key);
        for s in [
            &mut e.error_type,
            &mut e.code,
            &mut e.param,
            &mut e.request_id,
        ]
        .into_iter()
        .flatten()
        {
            *s = scrub(s, key);
        }
        e
    }

    fn url(&self, path: &str, query: &str) -> String {
        let base = self.cfg.api_base.trim_end_matches('/');
        let slash = if path.starts_with('/') { "" } else { "/" };
        let mut url = format!("{base}{slash}{path}");
        let query = query.trim_start_matches('?');
        if !query.is_empty() {
            url.push(if path.contains('?') { '&' } else { '?' });
            url.push_str(query);
        }
        url
    }
}

fn transport_failure(e: ureq::Error) -> Failure {
    use ureq::Error as E;
    // Only failures that can heal by themselves are worth a retry.
    let transient = matches!(
        e,
        E::Io(_)
            | E::Timeout(_)
            | E::ConnectionFailed
            | E::HostNotFound
            | E::Protocol(_)
            | E::BodyStalled
    );
    local_failure(e.to_string(), if transient { None } else { Some(false) })
}

/// A failure that got no HTTP response; `should_retry` as in [`Failure`].
fn local_failure(message: String, should_retry: Option<bool>) -> Failure {
    Failure {
        error: ApiError::new(ErrorKind::Network, None, message),
        retry_status: None,
        should_retry,
        retry_after: None,
    }
}

/// Blocks every signal in the calling thread, so that signals sent to a Postgres backend reach
/// the backend's own thread (whose handlers set the interrupt flags), never a helper thread of
/// ours. For threads that run no Postgres code: the request helper and the page prefetcher.
pub(crate) fn block_signals() {
    // SAFETY: plain libc calls on a local signal set, for the calling thread only.
    unsafe {
        let mut all: libc::sigset_t = std::mem::zeroed();
        libc::sigfillset(&mut all);
        libc::pthread_sigmask(libc::SIG_BLOCK, &all, std::ptr::null_mut());
    }
}

fn sleep_interruptibly(total: Duration, interrupt: &dyn Fn()) {
    let mut left = total;
    while !left.is_zero() {
        interrupt();
        let step = left.min(SLICE);
        std::thread::sleep(step);
        left -= step;
    }
}

/// One line from an arbitrary error body: tags stripped if it looks like
/// HTML, whitespace collapsed, cut to [`SUMMARY_CHARS`].
fn summarize(body: &str) -> String {
    let mut plain = String::with_capacity(body.len().min(4096));
    if body.trim_start().starts_with('<') {
        let mut in_tag = false;
        for c in body.chars() {
            match c {
                '<' => in_tag = true,
                '>' if in_tag => {
                    in_tag = false;
                    plain.push(' ');
                }
                _ if !in_tag => plain.push(c),
                _ => {}
            }
        }
    } else {
        plain.push_str(body);
    }
    let words = plain.split_whitespace().collect::<Vec<_>>().join(" ");
    match words.char_indices().nth(SUMMARY_CHARS) {
        None if words.is_empty() => "(empty body)".to_owned(),
        None => words,
        Some((cut, _)) => format!("{}…", &words[..cut]),
    }
}

/// Query parameters of a list call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListParams {
    /// Page size; Stripe accepts 1..=100, values outside are clamped.
    pub limit: u32,
    /// Sent as `expand[]`; list expansions need the `data.` prefix.
    pub expand: Vec<String>,
    /// Extra raw pairs, e.g. `("created[gte]", "1700000000")`.
    pub extra: Vec<(String, String)>,
}

impl Default for ListParams {
    fn default() -> Self {
        ListParams {
            limit: 100,
            expand: Vec::new(),
            extra: Vec::new(),
        }
    }
}

impl ListParams {
    pub fn query(&self, starting_after: Option<&str>) -> String {
        let limit = self.limit.clamp(1, 100).to_string();
        let mut pairs = vec![("limit", limit.as_str())];
        pairs.extend(self.expand.iter().map(|e| ("expand[]", e.as_str())));
        pairs.extend(self.extra.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        if let Some(id) = starting_after {
            pairs.push(("starting_after", id));
        }
        form::encode_pairs(&pairs)
    }
}

/// One list page: the raw body (for jsonb) plus what pagination and [`Walk`] need, all read
/// in the one pass over the body that checks it is a list.
#[derive(Debug, Clone, Default)]
pub struct Page {
    pub body: String,
    pub has_more: bool,
    /// Items in `data`.
    pub count: usize,
    /// The last item's id (None if it has none).
    pub last_id: Option<String>,
    /// Items without an id (a non-empty string), and the position of the first of them.
    pub ids_missing: usize,
    pub first_missing_id: Option<usize>,
    /// `created` of the first and of the last item (None where that is not an integer).
    pub first_created: Option<i64>,
    pub last_created: Option<i64>,
    /// The response's `Date` header as a unix time: Stripe's clock when it answered.
    pub date: Option<i64>,
    /// Unix time (with its fraction) at which the request for this page started; after
    /// retries, the attempt that got the answer.
    pub requested_at: f64,
    /// Stripe's `Request-Id` of the response.
    pub request_id: Option<String>,
}

impl Page {
    fn read(reply: Reply, env: Envelope) -> Page {
        let items: Vec<Item> = env
            .data
            .into_iter()
            .map(|i| i.0.unwrap_or_default())
            .collect();
        let missing = || items.iter().enumerate().filter(|(_, i)| i.id.is_none());
        Page {
            has_more: env.has_more,
            count: items.len(),
            ids_missing: missing().count(),
            first_missing_id: missing().next().map(|(at, _)| at),
            first_created: items.first().and_then(|i| i.created),
            last_created: items.last().and_then(|i| i.created),
            last_id: items.last().and_then(|i| i.id.clone()),
            body: reply.body,
            date: reply.date,
            requested_at: reply.started_at,
            request_id: reply.request_id,
        }
    }
}

/// Follows `starting_after` through a list until `has_more` is false, checking every page
/// with a [`Walk`].
#[derive(Debug)]
pub struct Pager<'a> {
    client: &'a Client,
    path: String,
    params: ListParams,
    cursor: Option<String>,
    walk: Walk,
    done: bool,
}

impl Pager<'_> {
    /// The next page, or `None` once the list is exhausted or after an error. A page the
    /// walk finds contradictory comes as an error (`ErrorKind::Contradiction`), the last.
    pub fn next_page(&mut self, interrupt: &dyn Fn()) -> Option<Result<Page, ApiError>> {
        if self.done {
            return None;
        }
        // Whatever happens below, only a checked cursor moves the pager on.
        self.done = true;
        let after = self.cursor.take();
        let page =
            match self
                .client
                .list_page(&self.path, &self.params, after.as_deref(), interrupt)
            {
                Ok(page) => page,
                Err(e) => return Some(Err(e)),
            };
        match self.walk.advance(after.as_deref(), &page) {
            Ok(next) => {
                self.done = next.is_none();
                self.cursor = next;
                Some(Ok(page))
            }
            Err(e) => Some(Err(self.client.list_error(e, &self.path))),
        }
    }
}

/// What pagination and [`Walk`] read of a list page; serde skips the rest of each item.
#[derive(Deserialize)]
struct Envelope {
    #[serde(default)]
    has_more: bool,
    data: Vec<Loose<Item>>,
}

/// An item's id and `created`, each where it has the JSON type it should.
#[derive(Default)]
struct Item {
    id: Option<String>,
    created: Option<i64>,
}

#[derive(Deserialize)]
#[serde(field_identifier, rename_all = "lowercase")]
enum Field {
    Id,
    Created,
    #[serde(other)]
    Other,
}

/// A JSON value of the kind `T` reads, or None for one of any other kind (skipped): an odd
/// item makes the page contradictory (`Walk` says which item), not unreadable.
struct Loose<T>(Option<T>);

/// How a [`Loose`] reads each kind of JSON value; None for the kinds `T` is not made from.
trait LooseRead: Sized {
    fn of_str(_: &str) -> Option<Self> {
        None
    }
    fn of_i64(_: i64) -> Option<Self> {
        None
    }
    fn of_map<'de, A: MapAccess<'de>>(mut map: A) -> Result<Option<Self>, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(None)
    }
}

impl LooseRead for String {
    fn of_str(s: &str) -> Option<String> {
        Some(s.to_owned()).filter(|s| !s.is_empty())
    }
}

impl LooseRead for i64 {
    fn of_i64(v: i64) -> Option<i64> {
        Some(v)
    }
}

impl LooseRead for Item {
    fn of_map<'de, A: MapAccess<'de>>(mut map: A) -> Result<Option<Item>, A::Error> {
        let mut item = Item::default();
        while let Some(field) = map.next_key::<Field>()? {
            match field {
                Field::Id => item.id = map.next_value::<Loose<String>>()?.0,
                Field::Created => item.created = map.next_value::<Loose<i64>>()?.0,
                Field::Other => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(Some(item))
    }
}

impl<'de, T: LooseRead> Deserialize<'de> for Loose<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(LooseVisitor(PhantomData))
    }
}

struct LooseVisitor<T>(PhantomData<T>);

impl<'de, T: LooseRead> Visitor<'de> for LooseVisitor<T> {
    type Value = Loose<T>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_bool<E>(self, _: bool) -> Result<Loose<T>, E> {
        Ok(Loose(None))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Loose<T>, E> {
        Ok(Loose(T::of_i64(v)))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Loose<T>, E> {
        Ok(Loose(i64::try_from(v).ok().and_then(T::of_i64)))
    }
    fn visit_f64<E>(self, _: f64) -> Result<Loose<T>, E> {
        Ok(Loose(None))
    }
    fn visit_str<E>(self, v: &str) -> Result<Loose<T>, E> {
        Ok(Loose(T::of_str(v)))
    }
    fn visit_unit<E>(self) -> Result<Loose<T>, E> {
        Ok(Loose(None))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Loose<T>, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Loose(None))
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Loose<T>, A::Error> {
        T::of_map(map).map(Loose)
    }
}

/// The current unix time, with its fraction of a second.
pub fn unix_now() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stripe_error(
        status: u16,
        error_type: &str,
        code: Option<&str>,
        param: Option<&str>,
        message: &str,
    ) -> ApiError {
        let mut e = ApiError::new(ErrorKind::Stripe, Some(status), message.into());
        e.error_type = Some(error_type.into());
        e.code = code.map(Into::into);
        e.param = param.map(Into::into);
        e
    }

    #[test]
    fn only_a_refusal_of_the_product_skips_a_type() {
        let refused = [
            stripe_error(
                400,
                "invalid_request_error",
                None,
                None,
                "Your account is not set up to use Issuing.",
            ),
            stripe_error(
                403,
                "permission_error",
                None,
                None,
                "The provided key does not have access.",
            ),
            stripe_error(400, "invalid_request_error", None, None, "Unexpected limit"), // localstripe
        ];
        assert!(refused.iter().all(ApiError::refuses_the_product));
        let wrong = [
            stripe_error(
                400,
                "invalid_request_error",
                Some("parameter_unknown"),
                Some("foo"),
                "Received unknown parameter: foo",
            ),
            stripe_error(
                400,
                "invalid_request_error",
                None,
                None,
                "Invalid Stripe API version: 2099-01-01",
            ),
            stripe_error(
                404,
                "invalid_request_error",
                None,
                None,
                "Unrecognized request URL (GET: /v2/customers).",
            ),
            stripe_error(
                400,
                "idempotency_error",
                None,
                None,
                "Keys for idempotent requests can only be used once.",
            ),
            stripe_error(
                401,
                "invalid_request_error",
                None,
                None,
                "Invalid API Key provided",
            ),
            stripe_error(429, "rate_limit_error", None, None, "Too many requests"),
        ];
        assert!(!wrong.iter().any(ApiError::refuses_the_product));
        let proxy = ApiError::new(ErrorKind::Http, Some(404), "Not Found".into());
        assert!(!proxy.refuses_the_product());
    }
    use std::cell::Cell;
    use std::io::{BufRead, BufReader, Read, Write};
    use std::net::TcpListener;
    use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
    use std::sync::mpsc::{channel, Receiver};
    use std::time::Instant;

    const KEY: &str = "sk_test_51SecretKeyDoNotLeak";

    /// What the fake server received: request line, lower-cased headers, body.
    struct Req {
        line: String,
        headers: Vec<(String, String)>,
        body: String,
    }

    impl Req {
        fn header(&self, name: &str) -> Option<&str> {
            self.headers
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.as_str())
        }
    }

    /// Serve one canned raw response per connection, in order.
    fn serve(responses: Vec<String>) -> (String, Receiver<Req>) {
        serve_after(Duration::ZERO, responses)
    }

    /// Like `serve`, answering each request `delay` after reading it.
    fn serve_after(delay: Duration, responses: Vec<String>) -> (String, Receiver<Req>) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let (tx, rx) = channel();
        std::thread::spawn(move || {
            for response in responses {
                let (stream, _) = listener.accept().unwrap();
                let mut r = BufReader::new(stream);
                let mut line = String::new();
                r.read_line(&mut line).unwrap();
                let mut headers = Vec::new();
                loop {
                    let mut h = String::new();
                    r.read_line(&mut h).unwrap();
                    let Some((k, v)) = h.trim_end().split_once(':') else {
                        break;
                    };
                    headers.push((k.to_ascii_lowercase(), v.trim().to_owned()));
                }
                let len = headers.iter().find(|(k, _)| k == "content-length");
                let mut body = vec![0; len.map_or(0, |(_, v)| v.parse().unwrap())];
                r.read_exact(&mut body).unwrap();
                let body = String::from_utf8(body).unwrap();
                let _ = tx.send(Req {
                    line: line.trim_end().to_owned(),
                    headers,
                    body,
                });
                std::thread::sleep(delay);
                let _ = r.get_mut().write_all(response.as_bytes());
            }
        });
        (base, rx)
    }

    fn resp(status: u16, headers: &[(&str, &str)], body: &str) -> String {
        let mut s = format!(
            "HTTP/1.1 {status} X\r\nContent-Length: {}\r\nConnection: close\r\n",
            body.len()
        );
        for (k, v) in headers {
            s += &format!("{k}: {v}\r\n");
        }
        s + "\r\n" + body
    }

    fn ok(body: &str) -> String {
        resp(200, &[("Content-Type", "application/json")], body)
    }

    fn client(base: &str, max_attempts: u32) -> Client {
        Client::new(ClientConfig {
            api_base: base.to_owned(),
            timeout: Duration::from_secs(5),
            retry: RetryPolicy {
                max_attempts,
                base: Duration::from_millis(1),
                max_delay: Duration::from_millis(5),
            },
            ..ClientConfig::new(KEY)
        })
    }

    fn noop() {}

    fn assert_no_key(e: &ApiError) {
        for s in [format!("{e}"), format!("{e:?}")] {
            assert!(
                !s.contains(KEY) && !s.contains("SecretKey"),
                "key leaked: {s}"
            );
        }
    }

    #[test]
    fn sends_auth_version_and_user_agent() {
        let (base, rx) = serve(vec![ok(r#"{"id":"cus_1"}"#), ok("{}")]);
        let c = client(&base, 1);
        assert_eq!(
            c.get("/v1/customers/cus_1", "", &noop).unwrap(),
            r#"{"id":"cus_1"}"#
        );
        let r = rx.recv().unwrap();
        assert_eq!(r.line, "GET /v1/customers/cus_1 HTTP/1.1");
        assert_eq!(
            r.header("authorization"),
            Some(format!("Bearer {KEY}").as_str())
        );
        assert_eq!(r.header("stripe-version"), Some(DEFAULT_API_VERSION));
        assert_eq!(r.header("user-agent"), Some(c.config().user_agent.as_str()));
        assert_eq!(r.header("idempotency-key"), None);

        let c = Client::new(ClientConfig {
            api_version: String::new(),
            ..client(&base, 1).cfg
        });
        c.get("v1/balance", "?a=1", &noop).unwrap();
        let r = rx.recv().unwrap();
        assert_eq!(r.line, "GET /v1/balance?a=1 HTTP/1.1");
        assert_eq!(r.header("stripe-version"), None);
    }

    #[test]
    fn a_connected_account_is_named_in_its_header() {
        let (base, rx) = serve(vec![ok("{}"), ok("{}")]);
        let c = client(&base, 1);
        c.for_account(Some("acct_1"))
            .get("/v1/customers/cus_1", "", &noop)
            .unwrap();
        c.for_account(Some(""))
            .get("/v1/customers/cus_1", "", &noop)
            .unwrap();
        assert_eq!(rx.recv().unwrap().header("stripe-account"), Some("acct_1"));
        assert_eq!(rx.recv().unwrap().header("stripe-account"), None);
    }

    #[test]
    fn post_sends_form_and_idempotency_key() {
        let (base, rx) = serve(vec![ok("{}"), resp(500, &[], "boom"), ok("{}")]);
        let c = client(&base, 3);
        c.post("/v1/customers", "email=a%40b.c", Some("idem-1"), &noop)
            .unwrap();
        let r = rx.recv().unwrap();
        assert_eq!(r.line, "POST /v1/customers HTTP/1.1");
        assert_eq!(r.body, "email=a%40b.c");
        assert_eq!(
            r.header("content-type"),
            Some("application/x-www-form-urlencoded")
        );
        assert_eq!(r.header("idempotency-key"), Some("idem-1"));
        // Without a caller key one is generated and reused across the retry.
        c.post("/v1/customers", "", None, &noop).unwrap();
        let keys: Vec<String> = rx
            .try_iter()
            .map(|r| r.header("idempotency-key").unwrap().to_owned())
            .collect();
        assert_eq!(keys.len(), 2);
        assert!(
            keys[0].starts_with("djstripe-pg-") && keys[0] == keys[1],
            "{keys:?}"
        );
    }

    #[test]
    fn delete_uses_delete_method() {
        let (base, rx) = serve(vec![ok(r#"{"deleted":true}"#)]);
        client(&base, 1)
            .delete("/v1/customers/cus_1", &noop)
            .unwrap();
        assert_eq!(
            rx.recv().unwrap().line,
            "DELETE /v1/customers/cus_1 HTTP/1.1"
        );
    }

    #[test]
    fn pager_follows_starting_after_across_three_pages() {
        let (base, rx) = serve(vec![
            ok(
                r#"{"object":"list","data":[{"id":"a","x":[1]},{"id":"b"}],"has_more":true,"url":"/v1/customers"}"#,
            ),
            ok(r#"{"object":"list","data":[{"id":"c"},{"id":"d"}],"has_more":true}"#),
            ok(r#"{"object":"list","data":[{"id":"e"}],"has_more":false}"#),
        ]);
        let c = client(&base, 1);
        let params = ListParams {
            limit: 2,
            expand: vec!["data.customer".into()],
            extra: vec![("created[gte]".into(), "1700000000".into())],
        };
        let mut pager = c.pager("/v1/customers", params);
        let mut seen = Vec::new();
        while let Some(page) = pager.next_page(&noop) {
            let page = page.unwrap();
            assert!(page.body.contains(r#""object":"list""#));
            seen.push((page.count, page.last_id.unwrap(), page.has_more));
        }
        let want = [(2, "b", true), (2, "d", true), (1, "e", false)];
        assert_eq!(seen, want.map(|(n, id, m)| (n, id.to_owned(), m)));
        assert!(pager.next_page(&noop).is_none());
        let lines: Vec<String> = rx.try_iter().map(|r| r.line).collect();
        let q = "GET /v1/customers?limit=2&expand[]=data.customer&created[gte]=1700000000";
        assert_eq!(
            lines,
            [
                format!("{q} HTTP/1.1"),
                format!("{q}&starting_after=b HTTP/1.1"),
                format!("{q}&starting_after=d HTTP/1.1"),
            ]
        );
    }

    #[test]
    fn pager_stops_with_an_error_at_an_empty_page_that_claims_more_and_default_limit_is_100() {
        let (base, rx) = serve(vec![ok(r#"{"data":[],"has_more":true}"#)]);
        let c = client(&base, 1);
        let mut pager = c.pager("/v1/invoices/in_1/lines", ListParams::default());
        let e = pager.next_page(&noop).unwrap().unwrap_err();
        assert_eq!(e.kind, ErrorKind::Contradiction);
        assert_eq!(
            e.to_string(),
            "contradictory list page on GET /v1/invoices/in_1/lines: /v1/invoices/in_1/lines \
             list, page 1 (fetched from the start): has_more is true but data is empty"
        );
        assert!(pager.next_page(&noop).is_none());
        assert_eq!(
            rx.recv().unwrap().line,
            "GET /v1/invoices/in_1/lines?limit=100 HTTP/1.1"
        );
        // An empty last page is a complete (empty) list.
        let (base, _rx) = serve(vec![ok(r#"{"data":[],"has_more":false}"#)]);
        let c = client(&base, 1);
        let mut pager = c.pager("/v1/invoices/in_1/lines", ListParams::default());
        assert_eq!(pager.next_page(&noop).unwrap().unwrap().count, 0);
        assert!(pager.next_page(&noop).is_none());
    }

    /// The pages a pager hands out (their last ids), then its error if any.
    fn walk_through(pages: &[&str], walk: Walk) -> (Vec<String>, Option<ApiError>, Vec<String>) {
        let (base, rx) = serve(pages.iter().map(|p| ok(p)).collect());
        let c = client(&base, 1);
        let mut pager = c.walk_pager("/v1/invoices/in_1/lines", ListParams::default(), walk);
        let mut ids = Vec::new();
        let mut error = None;
        while let Some(page) = pager.next_page(&noop) {
            match page {
                Ok(page) => ids.push(page.last_id.unwrap()),
                Err(e) => error = Some(e),
            }
        }
        let queries = rx.try_iter().map(|r| r.line).collect();
        (ids, error, queries)
    }

    #[test]
    fn pager_stops_with_an_error_at_a_contradictory_page() {
        let walk = || Walk::new("line_item of in_1");
        let more = r#"{"data":[{"id":"il_1"},{"id":"il_2"}],"has_more":true}"#;
        let cases = [
            (
                r#"{"data":[{"id":"il_3"},{"object":"line_item"}],"has_more":false}"#,
                "data[1] of its 2 items has no id (a non-empty string)",
            ),
            (
                r#"{"data":[{"id":"il_2"}],"has_more":true}"#,
                "has_more is true but its last id is il_2 again: the cursor does not move",
            ),
            (
                more,
                "its last id il_2 was a cursor earlier in this walk: the list goes round in a cycle",
            ),
        ];
        for (second, wanted) in cases {
            // The first page's cursor il_2, and the page after it.
            let pages = if wanted.contains("cycle") {
                vec![more, r#"{"data":[{"id":"il_3"}],"has_more":true}"#, second]
            } else {
                vec![more, second]
            };
            let (ids, e, queries) = walk_through(&pages, walk());
            let e = e.unwrap();
            assert_eq!(
                (e.kind, ids.len()),
                (ErrorKind::Contradiction, pages.len() - 1)
            );
            assert!(
                e.message.starts_with("line_item of in_1 list, page "),
                "{e}"
            );
            assert!(e.message.ends_with(wanted), "{e}");
            assert_eq!(queries.len(), pages.len());
        }
        // Stripe never sorts nested lists newest first; the pager does not ask it to.
        let pages = [
            r#"{"data":[{"id":"il_1","created":5}],"has_more":true}"#,
            r#"{"data":[{"id":"il_2","created":9}],"has_more":false}"#,
        ];
        let (ids, e, _) = walk_through(&pages, walk());
        assert_eq!(
            (ids, e.is_none()),
            (vec!["il_1".into(), "il_2".into()], true)
        );
        let (_, e, _) = walk_through(&pages, walk().newest_first());
        assert!(e.unwrap().message.contains("created goes up from 5"));
    }

    #[test]
    fn list_page_reads_what_the_walk_needs_in_one_pass() {
        let body = r#"{"object":"list","url":"/v1/customers","has_more":true,"data":[
            {"id":"cus_3","created":1700000300,"nested":{"id":"x","created":"no"}},
            7, "s", null, [1,{"id":"y"}], {"id":12,"created":1.5}, {"id":"","created":-1},
            {"created":18446744073709551615,"id":"cus_1"},
            {"object":"customer","id":"cus_0","created":1700000000}]}"#;
        let (base, _rx) = serve(vec![resp(
            200,
            &[
                ("Request-Id", "req_list"),
                ("Date", "Tue, 14 Nov 2023 22:13:20 GMT"),
            ],
            body,
        )]);
        let before = unix_now();
        let page = client(&base, 1)
            .list_page("/v1/customers", &ListParams::default(), None, &noop)
            .unwrap();
        assert_eq!(page.body, body);
        assert!(page.has_more);
        assert_eq!(page.count, 9);
        assert_eq!(page.last_id.as_deref(), Some("cus_0"));
        // 7, "s", null, [...], a number id, an empty id.
        assert_eq!((page.ids_missing, page.first_missing_id), (6, Some(1)));
        assert_eq!(page.first_created, Some(1_700_000_300));
        assert_eq!(page.last_created, Some(1_700_000_000));
        assert_eq!(page.date, Some(1_700_000_000));
        assert_eq!(page.request_id.as_deref(), Some("req_list"));
        assert!(before <= page.requested_at && page.requested_at <= unix_now());
    }

    #[test]
    fn list_without_data_is_decode_error() {
        let (base, _rx) = serve(vec![resp(
            200,
            &[("Request-Id", "req_9")],
            r#"{"object":"customer"}"#,
        )]);
        let e = client(&base, 3)
            .list_page("/v1/customers", &ListParams::default(), None, &noop)
            .unwrap_err();
        assert_eq!(
            (e.kind, e.status, e.attempts),
            (ErrorKind::Decode, Some(200), 1)
        );
        assert!(e.message.contains("data"), "{e}");
        assert_eq!(e.request_id.as_deref(), Some("req_9"));
    }

    #[test]
    fn non_json_success_is_decode_error() {
        let (base, _rx) = serve(vec![resp(
            200,
            &[],
            "<html><body>captive portal</body></html>",
        )]);
        let e = client(&base, 3).get("/v1/balance", "", &noop).unwrap_err();
        assert_eq!((e.kind, e.attempts), (ErrorKind::Decode, 1));
        assert!(
            e.to_string()
                .ends_with("expected JSON, got: captive portal"),
            "{e}"
        );
    }

    #[test]
    fn retries_500_then_succeeds() {
        let (base, rx) = serve(vec![resp(500, &[], "oops"), resp(503, &[], ""), ok("{}")]);
        assert_eq!(
            client(&base, 4).get("/v1/balance", "", &noop).unwrap(),
            "{}"
        );
        assert_eq!(rx.try_iter().count(), 3);
    }

    #[test]
    fn honours_retry_after_on_429() {
        let (base, rx) = serve(vec![resp(429, &[("Retry-After", "0.3")], "{}"), ok("{}")]);
        let start = Instant::now();
        client(&base, 2).get("/v1/balance", "", &noop).unwrap();
        assert!(
            start.elapsed() >= Duration::from_millis(300),
            "{:?}",
            start.elapsed()
        );
        assert_eq!(rx.try_iter().count(), 2);
    }

    #[test]
    fn stripe_should_retry_header_overrides_status() {
        let (base, rx) = serve(vec![
            resp(500, &[("Stripe-Should-Retry", "false")], "{}"),
            resp(400, &[("Stripe-Should-Retry", "true")], "{}"),
            ok("{}"),
        ]);
        let c = client(&base, 3);
        let e = c.get("/v1/balance", "", &noop).unwrap_err();
        assert_eq!((e.status, e.attempts), (Some(500), 1));
        assert_eq!(rx.try_iter().count(), 1);
        c.get("/v1/balance", "", &noop).unwrap();
        assert_eq!(rx.try_iter().count(), 2);
    }

    #[test]
    fn gives_up_after_max_attempts() {
        let (base, rx) = serve(vec![resp(500, &[], "oops"); 3]);
        let e = client(&base, 3).get("/v1/balance", "", &noop).unwrap_err();
        assert_eq!(
            (e.kind, e.status, e.attempts),
            (ErrorKind::Http, Some(500), 3)
        );
        assert_eq!(
            e.to_string(),
            "HTTP error 500 on GET /v1/balance: oops after 3 attempts"
        );
        assert_eq!(rx.try_iter().count(), 3);
    }

    #[test]
    fn connection_refused_is_network_error_after_retries() {
        let addr = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap();
        let e = client(&format!("http://{addr}"), 3)
            .get("/v1/balance", "", &noop)
            .unwrap_err();
        assert_eq!(
            (e.kind, e.status, e.attempts),
            (ErrorKind::Network, None, 3)
        );
        assert!(
            e.to_string()
                .starts_with("network error on GET /v1/balance: "),
            "{e}"
        );
        assert!(e.to_string().ends_with("after 3 attempts"), "{e}");
    }

    #[test]
    fn timeout_is_network_error() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        std::thread::spawn(move || {
            // Accept and never answer.
            let held: Vec<_> = listener.incoming().take(2).collect();
            std::thread::sleep(Duration::from_secs(5));
            drop(held);
        });
        let c = Client::new(ClientConfig {
            timeout: Duration::from_millis(200),
            ..client(&base, 2).cfg
        });
        let e = c.get("/v1/balance", "", &noop).unwrap_err();
        assert_eq!((e.kind, e.attempts), (ErrorKind::Network, 2));
        assert!(e.message.contains("timeout"), "{e}");
    }

    #[test]
    fn parses_stripe_error_object() {
        let body = r#"{"error":{"code":"resource_missing","doc_url":"https://stripe.com/docs",
            "message":"No such customer: 'cus_x'","param":"id","type":"invalid_request_error"}}"#;
        let (base, _rx) = serve(vec![resp(404, &[("Request-Id", "req_123")], body)]);
        let e = client(&base, 3)
            .get("/v1/customers/cus_x", "", &noop)
            .unwrap_err();
        assert_eq!(e.kind, ErrorKind::Stripe);
        assert_eq!(e.message, "No such customer: 'cus_x'");
        assert_eq!(e.error_type.as_deref(), Some("invalid_request_error"));
        assert_eq!(e.code.as_deref(), Some("resource_missing"));
        assert_eq!(e.param.as_deref(), Some("id"));
        assert_eq!(e.request_id.as_deref(), Some("req_123"));
        assert_eq!(
            e.to_string(),
            "Stripe API error 404 on GET /v1/customers/cus_x (invalid_request_error, code resource_missing, \
             param id): No such customer: 'cus_x' [request req_123]"
        );
    }

    #[test]
    fn plain_text_and_html_errors_are_readable() {
        let html = "<html>\n<head><title>502 Bad Gateway</title></head>\n<body>\n<center><h1>502 Bad Gateway</h1>\
                    </center>\n<hr><center>nginx</center>\n</body>\n</html>\n";
        let long = "x ".repeat(500);
        let (base, _rx) = serve(vec![
            resp(404, &[], "404 page not found\n"),
            resp(502, &[], html),
            resp(400, &[], &long),
        ]);
        let c = client(&base, 1);
        let e = c.get("/v1/nope", "", &noop).unwrap_err();
        assert_eq!(e.kind, ErrorKind::Http);
        assert_eq!(
            e.to_string(),
            "HTTP error 404 on GET /v1/nope: 404 page not found"
        );
        let e = c.get("/v1/nope", "", &noop).unwrap_err();
        assert_eq!(e.message, "502 Bad Gateway 502 Bad Gateway nginx");
        let e = c.get("/v1/nope", "", &noop).unwrap_err();
        assert_eq!(e.message.chars().count(), SUMMARY_CHARS + 1);
        assert!(e.message.ends_with('…'));
    }

    #[test]
    fn key_never_leaks() {
        let json = format!(
            r#"{{"error":{{"message":"Bad header Authorization: Bearer {KEY}","type":"x"}}}}"#
        );
        // The key straddles the 200-char cut, so it must be scrubbed before truncation.
        let html = format!("<pre>{}Authorization: Bearer {KEY}</pre>", "y".repeat(170));
        let (base, _rx) = serve(vec![
            resp(401, &[], &json),
            resp(400, &[], &html),
            resp(200, &[], KEY),
        ]);
        let c = client(&base, 1);
        for _ in 0..3 {
            assert_no_key(&c.get("/v1/balance", "", &noop).unwrap_err());
        }
        let e = c.get(&format!("/v1/{KEY}"), "", &noop).unwrap_err();
        assert_eq!(e.kind, ErrorKind::Network); // server is gone
        assert_no_key(&e);
        for s in [format!("{:?}", c.config()), format!("{c:?}")] {
            assert!(!s.contains(KEY) && s.contains("sk_test_…"), "{s}");
        }
    }

    /// No 10 consecutive characters of the key's secret, in any case or with anything between.
    fn assert_no_echo(e: &ApiError) {
        let plain = |s: &str| -> String {
            s.chars()
                .filter(char::is_ascii_alphanumeric)
                .map(|c| c.to_ascii_lowercase())
                .collect()
        };
        let secret = plain(KEY.strip_prefix("sk_test_").unwrap());
        for s in [format!("{e}"), format!("{e:?}")] {
            let text = plain(&s);
            for run in secret.as_bytes().windows(10) {
                let run = std::str::from_utf8(run).unwrap();
                assert!(!text.contains(run), "{run} leaked: {s}");
            }
        }
    }

    #[test]
    fn transformed_echoes_of_the_key_never_leak() {
        let upper = format!(
            r#"{{"error":{{"message":"Invalid key {}","type":"x"}}}}"#,
            KEY.to_uppercase()
        );
        let dashed: String = KEY.chars().flat_map(|c| [c, '-']).collect();
        let (half, rest) = KEY.split_at(KEY.len() / 2);
        let lines = format!("<pre>{}\nkey: {half}\n   {rest}</pre>", "y".repeat(180));
        let url: String = KEY.bytes().map(|b| format!("%{b:02X}")).collect();
        let (base, _rx) = serve(vec![
            resp(401, &[], &upper),
            resp(400, &[], &format!("bad key {dashed}")),
            resp(502, &[], &lines),
            resp(400, &[], &format!("GET /?key={url} refused")),
            resp(200, &[], &format!("not json: {}", KEY.replace('_', " "))),
        ]);
        let c = client(&base, 1);
        for _ in 0..5 {
            let e = c.get("/v1/balance", "", &noop).unwrap_err();
            assert!(e.message.contains("sk_test_…"), "{e}");
            assert_no_echo(&e);
        }
    }

    #[test]
    fn interrupt_runs_before_attempts_and_during_sleeps() {
        let (base, _rx) = serve(vec![resp(500, &[], ""), resp(500, &[], ""), ok("{}")]);
        let calls = Cell::new(0);
        client(&base, 3)
            .get("/v1/balance", "", &|| calls.set(calls.get() + 1))
            .unwrap();
        // 3 attempts + one slice in each of the two short backoffs.
        assert_eq!(calls.get(), 5);

        let (base, _rx) = serve(vec![resp(429, &[("Retry-After", "0.25")], ""), ok("{}")]);
        calls.set(0);
        client(&base, 2)
            .get("/v1/balance", "", &|| calls.set(calls.get() + 1))
            .unwrap();
        assert_eq!(calls.get(), 2 + 3); // 250 ms sleeps in three slices
    }

    #[test]
    fn panicking_interrupt_aborts_the_retry_loop() {
        let (base, rx) = serve(vec![resp(500, &[], ""); 5]);
        let c = client(&base, 5);
        let calls = Cell::new(0);
        let cancel = || {
            calls.set(calls.get() + 1);
            if calls.get() == 2 {
                resume_unwind(Box::new("canceling statement due to user request"));
            }
        };
        assert!(catch_unwind(AssertUnwindSafe(|| c.get("/v1/balance", "", &cancel))).is_err());
        assert_eq!((calls.get(), rx.try_iter().count()), (2, 1));
        // The client is still usable afterwards.
        let (base, _rx) = serve(vec![ok("{}")]);
        assert!(Client::new(ClientConfig {
            api_base: base,
            ..c.cfg.clone()
        })
        .get("/", "", &noop)
        .is_ok());
    }

    /// A panicking interrupt that starts panicking `after` (a statement timeout, say).
    fn cancel_after(after: Duration) -> impl Fn() {
        let start = Instant::now();
        move || {
            if start.elapsed() >= after {
                resume_unwind(Box::new("canceling statement due to statement timeout"));
            }
        }
    }

    #[test]
    fn interrupt_ends_a_request_that_gets_no_answer() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        std::thread::spawn(move || {
            // Accept and never answer (for longer than the test runs).
            let held: Vec<_> = listener.incoming().take(2).collect();
            std::thread::sleep(Duration::from_secs(10));
            drop(held);
        });
        let c = Client::new(ClientConfig {
            timeout: Duration::from_secs(30),
            ..client(&base, 3).cfg
        });
        type Call<'a> = &'a dyn Fn(&Client, &dyn Fn());
        let calls: [Call; 2] = [&|c, i| drop(c.get("/v1/balance", "", i)), &|c, i| {
            drop(c.list_page("/v1/customers", &ListParams::default(), None, i))
        }];
        for call in calls {
            let start = Instant::now();
            let cancel = cancel_after(Duration::from_millis(300));
            assert!(catch_unwind(AssertUnwindSafe(|| call(&c, &cancel))).is_err());
            let took = start.elapsed();
            assert!(
                took >= Duration::from_millis(300) && took < Duration::from_secs(1),
                "{took:?}"
            );
        }
    }

    #[test]
    fn interrupt_ends_a_request_whose_answer_is_late() {
        let (base, rx) = serve_after(Duration::from_secs(10), vec![ok("{}")]);
        let c = client(&base, 1);
        let start = Instant::now();
        let cancel = cancel_after(Duration::from_millis(300));
        assert!(catch_unwind(AssertUnwindSafe(|| c.get("/v1/balance", "", &cancel))).is_err());
        assert!(
            start.elapsed() < Duration::from_secs(1),
            "{:?}",
            start.elapsed()
        );
        // It was on the wire: the server had read the request.
        assert_eq!(rx.try_iter().count(), 1);
    }

    #[test]
    fn a_slow_answer_arrives_while_interrupt_is_polled() {
        let (base, _rx) = serve_after(Duration::from_millis(300), vec![ok(r#"{"id":"cus_1"}"#)]);
        let calls = Cell::new(0);
        let body = client(&base, 1)
            .get("/v1/customers/cus_1", "", &|| calls.set(calls.get() + 1))
            .unwrap();
        assert_eq!(body, r#"{"id":"cus_1"}"#);
        // Once before the attempt, then about every 50 ms of the 300 ms wait (fewer on a
        // loaded machine, where a 50 ms wait can take longer).
        assert!((3..=12).contains(&calls.get()), "{}", calls.get());
    }

    #[test]
    fn list_params_query() {
        let p = ListParams {
            limit: 0,
            expand: vec!["data.default_price".into(), "data.a b".into()],
            extra: vec![("ending_before".into(), "x".into())],
        };
        assert_eq!(
            p.query(Some("cus_1")),
            "limit=1&expand[]=data.default_price&expand[]=data.a%20b&ending_before=x&starting_after=cus_1"
        );
        assert_eq!(
            ListParams { limit: 500, ..p }.query(None),
            "limit=100&expand[]=data.default_price&expand[]=data.a%20b&ending_before=x"
        );
    }
}
