//! Fetching a list's next page on a thread while the database writes the current one. Pure:
//! the thread runs only the HTTP client and the `jsonb` encoder, never Postgres code, and it
//! blocks every signal, so the backend's signals still reach the backend's own thread.
//!
//! It runs at most one page ahead. Dropping the `Prefetcher` (the sync finished, failed, or
//! was cancelled) tells the thread to stop at its next check: between requests, every 50 ms
//! while a request is on the wire, and during the client's retry waits. A request it leaves
//! behind finishes on the client's own helper thread (bounded by the client's timeout), and
//! its page is dropped.

use crate::client::{block_signals, ApiError, Client, ErrorKind, ListParams, Page};
use std::cell::Cell;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, RecvTimeoutError};
use std::sync::Arc;
use std::time::Duration;

/// One fetched page, and what was prepared with it.
pub struct Fetched {
    pub page: Result<Page, ApiError>,
    /// The whole unix second the request started in: the page reflects Stripe as of then.
    pub fetched_at: f64,
    /// The page's `jsonb` varlena (`jsonb_encode`), if the encoder took it.
    pub jsonb: Option<Vec<u8>>,
    /// The cursor this page was fetched after (None for the first page).
    pub after: Option<String>,
}

pub struct Prefetcher {
    rx: Receiver<Fetched>,
    stop: Arc<AtomicBool>,
    /// The last page (or an error) has been handed over.
    finished: Cell<bool>,
}

/// Whether nothing follows this page: an error, or the last page (`Page::next_cursor`). The
/// thread stops after it too.
fn is_last(f: &Fetched) -> bool {
    f.page
        .as_ref()
        .map_or(true, |p| p.next_cursor(f.after.as_deref()).is_none())
}

/// Unwinds the thread when it is told to stop (from inside the client's interrupt checks).
struct Stopped;

pub fn unix_now() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

impl Prefetcher {
    /// Starts fetching `path` with `params` from `cursor` on, page after page.
    pub fn start(client: Client, path: String, params: ListParams, cursor: Option<String>) -> Self {
        let (tx, rx) = sync_channel::<Fetched>(1);
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        std::thread::spawn(move || {
            block_signals();
            let interrupt = || {
                if flag.load(Ordering::Relaxed) {
                    std::panic::resume_unwind(Box::new(Stopped));
                }
            };
            let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                let mut after = cursor;
                loop {
                    interrupt();
                    let fetched_at = unix_now().floor();
                    let page = client.list_page(&path, &params, after.as_deref(), &interrupt);
                    let jsonb = page
                        .as_ref()
                        .ok()
                        .and_then(|p| crate::jsonb_encode::encode(&p.body));
                    let fetched = Fetched {
                        page,
                        fetched_at,
                        jsonb,
                        after: after.clone(),
                    };
                    let next = fetched
                        .page
                        .as_ref()
                        .ok()
                        .and_then(|p| p.next_cursor(after.as_deref()));
                    if tx.send(fetched).is_err() || next.is_none() {
                        break;
                    }
                    after = next;
                }
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
                Ok(f) => {
                    self.finished.set(is_last(&f));
                    return Some(f);
                }
                Err(RecvTimeoutError::Timeout) => wait(),
                Err(RecvTimeoutError::Disconnected) => {
                    self.finished.set(true);
                    let message =
                        "the page fetcher stopped before the last page (see the server log)";
                    return Some(Fetched {
                        page: Err(ApiError::new(ErrorKind::Decode, None, message.into())),
                        fetched_at: unix_now().floor(),
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::ClientConfig;
    use std::io::{BufRead, BufReader, Read, Write};
    use std::net::TcpListener;

    /// A list server of `pages` pages of two objects each; counts the requests it answered.
    fn server(pages: usize) -> (String, Arc<std::sync::atomic::AtomicUsize>) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let served = Arc::new(std::sync::atomic::AtomicUsize::new(0));
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
                    let after = line
                        .split("starting_after=o")
                        .nth(1)
                        .and_then(|s| s.split(|c: char| !c.is_ascii_digit()).next())
                        .and_then(|n| n.parse::<usize>().ok());
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
                    let first = after.map_or(0, |n| n + 1);
                    let page = first / 2;
                    let body = format!(
                        r#"{{"object":"list","data":[{{"id":"o{first}","n":{first}}},{{"id":"o{}"}}],"has_more":{}}}"#,
                        first + 1,
                        page + 1 < pages
                    );
                    count.fetch_add(1, Ordering::SeqCst);
                    write!(
                        stream,
                        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{}",
                        body.len(),
                        body
                    )
                    .unwrap();
                }
            }
        });
        (url, served)
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

    #[test]
    fn pages_arrive_in_order_with_their_jsonb_and_cursor() {
        let (url, _) = server(3);
        let p = from_start(&url);
        let mut seen = Vec::new();
        while let Some(f) = p.next(&|| {}) {
            let page = f.page.unwrap();
            assert_eq!(f.jsonb, crate::jsonb_encode::encode(&page.body));
            assert!(f.fetched_at <= unix_now() && f.fetched_at.fract() == 0.0);
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
        };
        tx.send(Fetched {
            page: Ok(page),
            fetched_at: 0.0,
            jsonb: None,
            after: None,
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
        let p = Prefetcher::start(
            client("http://127.0.0.1:9"),
            "/v1/things".into(),
            ListParams::default(),
            Some("o7".into()),
        );
        let f = p.next(&|| {}).unwrap();
        assert!(f.page.is_err());
        assert_eq!(f.after.as_deref(), Some("o7"));
        assert!(p.next(&|| {}).is_none());
    }
}
