//! Fetching a list's next page on a thread while the database writes the current one. Pure:
//! the thread runs only the HTTP client and the `jsonb` encoder, never Postgres code, and it
//! blocks every signal, so the backend's signals still reach the backend's own thread.
//!
//! It runs at most one page ahead. Dropping the `Prefetcher` (the sync finished, failed, or
//! was cancelled) tells the thread to stop at its next check: between requests, every 50 ms
//! while a request is on the wire, and during the client's retry waits. A request it leaves
//! behind finishes on the client's own helper thread (bounded by the client's timeout), and
//! its page is dropped.

use crate::client::{block_signals, ApiError, Client, ErrorKind, ListParams, Page, Walk};
use std::cell::Cell;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, RecvTimeoutError, SyncSender};
use std::sync::Arc;
use std::time::Duration;

pub use crate::client::unix_now;

/// One fetched page, and what was prepared with it.
pub struct Fetched {
    pub page: Result<Page, ApiError>,
    /// The unix time, with its fraction (not rounded to the second), at which the request for
    /// this page started: the page reflects Stripe as of then or a little later. After
    /// retries, the attempt that got the answer (`Page::requested_at`); for an error, the
    /// moment the fetch began.
    pub fetched_at: f64,
    /// The page's `jsonb` varlena (`jsonb_encode`), if the encoder took it.
    pub jsonb: Option<Vec<u8>>,
    /// The cursor this page was fetched after (None for the first page).
    pub after: Option<String>,
}

/// What the thread hands over: a page, and whether it is the last (the end of the list, or
/// an error); the thread stops after the last.
struct Handover {
    fetched: Fetched,
    last: bool,
}

pub struct Prefetcher {
    rx: Receiver<Handover>,
    stop: Arc<AtomicBool>,
    /// The last page (or an error) has been handed over.
    finished: Cell<bool>,
}

/// Unwinds the thread when it is told to stop (from inside the client's interrupt checks).
struct Stopped;

impl Prefetcher {
    /// Starts fetching `path` with `params` from `cursor` on, page after page, checked by a
    /// `Walk` named after the path that does not check the order (see [`Prefetcher::walk`]).
    pub fn start(client: Client, path: String, params: ListParams, cursor: Option<String>) -> Self {
        let walk = Walk::new(path.clone());
        Prefetcher::walk(client, path, params, walk, cursor)
    }

    /// Starts fetching `path` with `params` from `cursor` on, page after page, each page
    /// checked by `walk` (which may go on from an earlier state; `cursor` is then where that
    /// walk stopped). A page the walk finds contradictory is handed over as an error
    /// (`ErrorKind::Contradiction`), the last: never as the end of the list.
    pub fn walk(
        client: Client,
        path: String,
        params: ListParams,
        walk: Walk,
        cursor: Option<String>,
    ) -> Self {
        let (tx, rx) = sync_channel::<Handover>(1);
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        std::thread::spawn(move || {
            block_signals();
            let interrupt = || {
                if flag.load(Ordering::Relaxed) {
                    std::panic::resume_unwind(Box::new(Stopped));
                }
            };
            let list = List {
                client: &client,
                path: &path,
                params: &params,
            };
            let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                list.fetch_all(walk, cursor, &tx, &interrupt)
            }));
        });
        Prefetcher {
            rx,
            stop,
            finished: Cell::new(false),
        }
    }

    /// The next page, or None after the last one (or after an error page). `wait` runs every
    /// 50 ms while the page is not there yet (the caller checks for query cancel in it). A
    /// thread that ended before the last page (a panic: a bug) is an error page, never a
    /// silent end of the list, which a complete sync would take as "every other object is gone".
    pub fn next(&self, wait: &dyn Fn()) -> Option<Fetched> {
        if self.finished.get() {
            return None;
        }
        loop {
            match self.rx.recv_timeout(Duration::from_millis(50)) {
                Ok(h) => {
                    self.finished.set(h.last);
                    return Some(h.fetched);
                }
                Err(RecvTimeoutError::Timeout) => wait(),
                Err(RecvTimeoutError::Disconnected) => {
                    self.finished.set(true);
                    let message =
                        "the page fetcher stopped before the last page (see the server log)";
                    return Some(Fetched {
                        page: Err(ApiError::new(ErrorKind::Decode, None, message.into())),
                        fetched_at: unix_now(),
                        jsonb: None,
                        after: None,
                    });
                }
            }
        }
    }
}

impl Drop for Prefetcher {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// The list the thread walks.
struct List<'a> {
    client: &'a Client,
    path: &'a str,
    params: &'a ListParams,
}

impl List<'_> {
    /// Fetches, checks and hands over page after page, until the last one, an error, or
    /// nobody listening any more.
    fn fetch_all(
        &self,
        mut walk: Walk,
        mut after: Option<String>,
        tx: &SyncSender<Handover>,
        interrupt: &dyn Fn(),
    ) {
        loop {
            interrupt();
            let (fetched, next) = self.fetch(&mut walk, after, interrupt);
            let last = next.is_none();
            if tx.send(Handover { fetched, last }).is_err() || last {
                return;
            }
            after = next;
        }
    }

    /// One page, checked by `walk`, and the cursor of the next one (None if it is the last).
    fn fetch(
        &self,
        walk: &mut Walk,
        after: Option<String>,
        interrupt: &dyn Fn(),
    ) -> (Fetched, Option<String>) {
        let began = unix_now();
        let fetched = self
            .client
            .list_page(self.path, self.params, after.as_deref(), interrupt);
        let checked = match fetched {
            Ok(page) => match walk.advance(after.as_deref(), &page) {
                Ok(next) => Ok((page, next)),
                Err(e) => Err(self.client.list_error(e, self.path)),
            },
            Err(e) => Err(e),
        };
        match checked {
            Ok((page, next)) => {
                let fetched = Fetched {
                    fetched_at: page.requested_at,
                    jsonb: crate::jsonb_encode::encode(&page.body),
                    page: Ok(page),
                    after,
                };
                (fetched, next)
            }
            Err(e) => {
                let fetched = Fetched {
                    page: Err(e),
                    fetched_at: began,
                    jsonb: None,
                    after,
                };
                (fetched, None)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::{ClientConfig, WalkState};
    use std::io::{BufRead, BufReader, Read, Write};
    use std::net::TcpListener;
    use std::sync::atomic::AtomicUsize;
    use std::sync::Mutex;

    /// A list server (keep-alive) answering each request with `answer(request line)`; counts
    /// the requests it answered.
    fn serve(answer: impl Fn(&str) -> String + Send + 'static) -> (String, Arc<AtomicUsize>) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let served = Arc::new(AtomicUsize::new(0));
        let count = served.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let mut stream = stream.unwrap();
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 {
                        break;
                    }
                    let mut len = 0;
                    loop {
                        let mut h = String::new();
                        reader.read_line(&mut h).unwrap();
                        if let Some(v) = h.to_ascii_lowercase().strip_prefix("content-length:") {
                            len = v.trim().parse().unwrap();
                        }
                        if h == "\r\n" {
                            break;
                        }
                    }
                    let mut body = vec![0; len];
                    reader.read_exact(&mut body).unwrap();
                    let body = answer(&line);
                    count.fetch_add(1, Ordering::SeqCst);
                    write!(
                        stream,
                        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\
                         Date: Tue, 14 Nov 2023 22:13:20 GMT\r\nContent-Length: {}\r\n\r\n{}",
                        body.len(),
                        body
                    )
                    .unwrap();
                }
            }
        });
        (url, served)
    }

    /// A list of `pages` pages of two objects each (`o0`, `o1`, …).
    fn server(pages: usize) -> (String, Arc<AtomicUsize>) {
        serve(move |line| {
            let after = line
                .split("starting_after=o")
                .nth(1)
                .and_then(|s| s.split(|c: char| !c.is_ascii_digit()).next())
                .and_then(|n| n.parse::<usize>().ok());
            let first = after.map_or(0, |n| n + 1);
            let page = first / 2;
            format!(
                r#"{{"object":"list","data":[{{"id":"o{first}","n":{first}}},{{"id":"o{}"}}],"has_more":{}}}"#,
                first + 1,
                page + 1 < pages
            )
        })
    }

    /// The cursor (`starting_after`) of each request, in order.
    type Cursors = Arc<Mutex<Vec<Option<String>>>>;

    /// Answers with `pages` in order, whatever the request; records each request's cursor.
    fn canned(pages: &[&str]) -> (String, Arc<AtomicUsize>, Cursors) {
        let pages: Vec<String> = pages.iter().map(|p| p.to_string()).collect();
        let cursors = Arc::new(Mutex::new(Vec::new()));
        let seen = cursors.clone();
        let next = AtomicUsize::new(0);
        let (url, served) = serve(move |line| {
            let after = line
                .split("starting_after=")
                .nth(1)
                .map(|s| s.split([' ', '&']).next().unwrap().to_string());
            seen.lock().unwrap().push(after);
            let n = next.fetch_add(1, Ordering::SeqCst);
            pages
                .get(n)
                .cloned()
                .unwrap_or_else(|| "(no more pages)".into())
        });
        (url, served, cursors)
    }

    fn client(url: &str) -> Client {
        let mut cfg = ClientConfig::new("sk_test_prefetch");
        cfg.api_base = url.to_string();
        cfg.retry.max_attempts = 1;
        Client::new(cfg)
    }

    /// Fetching the list at `url` from its first page.
    fn from_start(url: &str) -> Prefetcher {
        Prefetcher::start(
            client(url),
            "/v1/things".into(),
            ListParams::default(),
            None,
        )
    }

    /// Everything the prefetcher hands over: the pages' last ids, then the error, if any.
    fn drain(p: &Prefetcher) -> (Vec<String>, Option<ApiError>) {
        let mut ids = Vec::new();
        while let Some(f) = p.next(&|| {}) {
            match f.page {
                Ok(page) => ids.push(page.last_id.unwrap_or_default()),
                Err(e) => {
                    assert!(p.next(&|| {}).is_none(), "a page after the error");
                    return (ids, Some(e));
                }
            }
        }
        (ids, None)
    }

    #[test]
    fn pages_arrive_in_order_with_their_jsonb_and_cursor() {
        let (url, _) = server(3);
        let began = unix_now();
        let p = from_start(&url);
        let mut seen = Vec::new();
        while let Some(f) = p.next(&|| {}) {
            let page = f.page.unwrap();
            assert_eq!(f.jsonb, crate::jsonb_encode::encode(&page.body));
            // The exact moment its request started, not rounded to the second.
            assert_eq!(f.fetched_at, page.requested_at);
            assert!(began <= f.fetched_at && f.fetched_at <= unix_now());
            assert_eq!(page.date, Some(1_700_000_000));
            seen.push((f.after, page.last_id.unwrap()));
        }
        assert_eq!(
            seen,
            [
                (None, "o1".to_string()),
                (Some("o1".into()), "o3".into()),
                (Some("o3".into()), "o5".into())
            ]
        );
    }

    #[test]
    fn it_runs_one_page_ahead_and_stops_when_dropped() {
        let (url, served) = server(100);
        let p = from_start(&url);
        let first = p.next(&|| {}).unwrap();
        assert!(first.page.is_ok());
        std::thread::sleep(Duration::from_millis(300));
        // the page handed over, one waiting in the channel, one fetched and blocked on sending
        assert!(
            served.load(Ordering::SeqCst) <= 3,
            "{}",
            served.load(Ordering::SeqCst)
        );
        drop(p);
        std::thread::sleep(Duration::from_millis(300));
        let after_drop = served.load(Ordering::SeqCst);
        std::thread::sleep(Duration::from_millis(300));
        assert_eq!(served.load(Ordering::SeqCst), after_drop);
        assert!(after_drop <= 4, "{after_drop}");
    }

    #[test]
    fn a_thread_gone_before_the_last_page_is_an_error_not_the_end() {
        let (tx, rx) = sync_channel(1);
        let p = Prefetcher {
            rx,
            stop: Arc::new(AtomicBool::new(false)),
            finished: Cell::new(false),
        };
        let page = Page {
            body: "{}".into(),
            has_more: true,
            count: 2,
            last_id: Some("o1".into()),
            ..Page::default()
        };
        let fetched = Fetched {
            page: Ok(page),
            fetched_at: 0.0,
            jsonb: None,
            after: None,
        };
        tx.send(Handover {
            fetched,
            last: false,
        })
        .unwrap();
        drop(tx); // the thread died with more pages to go
        assert!(p.next(&|| {}).unwrap().page.is_ok());
        let gone = p.next(&|| {}).unwrap().page.unwrap_err();
        assert!(
            gone.message.contains("stopped before the last page"),
            "{gone}"
        );
        assert!(p.next(&|| {}).is_none());
    }

    #[test]
    fn an_error_page_is_the_last() {
        let began = unix_now();
        let p = Prefetcher::start(
            client("http://127.0.0.1:9"),
            "/v1/things".into(),
            ListParams::default(),
            Some("o7".into()),
        );
        let f = p.next(&|| {}).unwrap();
        assert!(f.page.is_err());
        assert_eq!(f.after.as_deref(), Some("o7"));
        assert!(began <= f.fetched_at && f.fetched_at <= unix_now());
        assert!(p.next(&|| {}).is_none());
    }

    /// The pages of one case, oldest request first.
    fn list(items: &[(&str, i64)], has_more: bool) -> String {
        let data: Vec<String> = items
            .iter()
            .map(|(id, created)| format!(r#"{{"id":"{id}","created":{created}}}"#))
            .collect();
        format!(
            r#"{{"object":"list","data":[{}],"has_more":{has_more}}}"#,
            data.join(",")
        )
    }

    #[test]
    fn a_contradictory_page_is_an_error_never_the_end_of_the_list() {
        let page_ab = list(&[("a", 9), ("b", 8)], true);
        let cases: Vec<(&str, Vec<String>, usize, &str)> = vec![
            (
                "has_more without data",
                vec![page_ab.clone(), list(&[], true)],
                1,
                "page 2 (fetched after b): has_more is true but data is empty",
            ),
            (
                "items without an id",
                vec![
                    page_ab.clone(),
                    r#"{"data":[{"id":"c"},{"id":7},"d",{"id":""},{"id":"e"}],"has_more":false}"#
                        .into(),
                ],
                1,
                "page 2 (fetched after b): 3 of its 5 items have no id (a non-empty string), \
                 the first data[1]",
            ),
            (
                "a cursor that does not move",
                vec![page_ab.clone(), list(&[("b", 8)], true)],
                1,
                "page 2 (fetched after b): has_more is true but its last id is b again",
            ),
            (
                "a cycle",
                vec![
                    page_ab.clone(),
                    list(&[("c", 7), ("d", 6)], true),
                    list(&[("a", 5), ("b", 4)], true),
                ],
                2,
                "page 3 (fetched after d): its last id b was a cursor earlier in this walk",
            ),
        ];
        for (case, pages, good, wanted) in cases {
            let pages: Vec<&str> = pages.iter().map(String::as_str).collect();
            let (url, served, _) = canned(&pages);
            let (ids, e) = drain(&from_start(&url));
            let e = e.unwrap_or_else(|| panic!("{case}: no error"));
            assert_eq!(ids.len(), good, "{case}");
            assert_eq!(e.kind, ErrorKind::Contradiction, "{case}");
            let text = e.to_string();
            assert!(
                text.starts_with("contradictory list page on GET /v1/things: /v1/things list, ")
                    && text.contains(wanted),
                "{case}: {text}"
            );
            // Nothing fetched after it.
            assert_eq!(served.load(Ordering::SeqCst), pages.len(), "{case}");
        }
    }

    #[test]
    fn a_newest_first_walk_checks_created_from_page_to_page() {
        let walk = || Walk::new("customer").newest_first();
        let start = |url: &str, walk: Walk| {
            Prefetcher::walk(
                client(url),
                "/v1/customers".into(),
                ListParams::default(),
                walk,
                None,
            )
        };
        // Equal seconds across both page boundaries: a normal list.
        let pages = [
            list(&[("c", 30), ("b", 20)], true),
            list(&[("a", 20), ("z", 20)], true),
            list(&[("y", 20), ("x", 10)], false),
        ];
        let (url, _, cursors) = canned(&pages.each_ref().map(String::as_str));
        let (ids, e) = drain(&start(&url, walk()));
        assert!(e.is_none(), "{e:?}");
        assert_eq!(ids, ["b", "z", "x"]);
        assert_eq!(
            *cursors.lock().unwrap(),
            [None, Some("b".into()), Some("z".into())]
        );
        // A page newer than the one before.
        let pages = [
            list(&[("c", 30), ("b", 20)], true),
            list(&[("a", 21), ("z", 5)], false),
        ];
        let (url, _, _) = canned(&pages.each_ref().map(String::as_str));
        let (ids, e) = drain(&start(&url, walk()));
        assert_eq!(ids, ["b"]);
        let e = e.unwrap();
        assert!(
            e.message
                .ends_with("customer list, page 2 (fetched after b): created goes up from 20 on the page before to 21, in a list sorted newest first"),
            "{e}"
        );
        // The same pages pass a walk that does not check the order.
        let (url, _, _) = canned(&pages.each_ref().map(String::as_str));
        let (ids, e) = drain(&start(&url, Walk::new("customer")));
        assert_eq!(
            (ids, e.is_none()),
            (vec!["b".to_string(), "z".into()], true)
        );
    }

    #[test]
    fn a_walk_resumed_from_its_state_sees_a_cycle_across_the_resume() {
        // An earlier transaction walked two pages, after the start and after o1.
        let state: WalkState = serde_json::from_str(
            r#"{"pages":2,"last_created":null,"recent_cursors":["o1"],"landmark":"o1"}"#,
        )
        .unwrap();
        let walk = Walk::resume("thing", state, false);
        let pages = [
            list(&[("o4", 0), ("o5", 0)], true),
            list(&[("o0", 0), ("o1", 0)], true),
        ];
        let (url, _, cursors) = canned(&pages.each_ref().map(String::as_str));
        let p = Prefetcher::walk(
            client(&url),
            "/v1/things".into(),
            ListParams::default(),
            walk,
            Some("o3".into()),
        );
        let (ids, e) = drain(&p);
        assert_eq!(ids, ["o5"]);
        let e = e.unwrap();
        assert!(
            e.message
                .starts_with("thing list, page 4 (fetched after o5): its last id o1"),
            "{e}"
        );
        assert_eq!(
            *cursors.lock().unwrap(),
            [Some("o3".into()), Some("o5".into())]
        );
    }
}
