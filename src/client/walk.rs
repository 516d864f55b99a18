//! Checking the pages of one walk through a list, and choosing the next cursor.
//!
//! A walk that ends early looks exactly like a complete one, and a complete sync takes every
//! object it did not see as deleted. So a page that contradicts itself or the pages before
//! it is an error ([`ErrorKind::Contradiction`]), never the end of the list: `has_more` with
//! no data, an item without an id, a cursor that does not move, a cursor that comes round
//! again (a cycle would page forever), and, for lists sorted newest first, `created` going
//! up from one page to the next.
//!
//! The walk's memory is small and serialisable ([`WalkState`]), so a background job that
//! fetches one page per transaction keeps checking across its transactions.

use super::{ApiError, ErrorKind, Page};
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;

/// How many of the latest cursors a walk remembers, to see a cycle the moment it closes: at
/// 100 objects a page, any cycle through up to 100,000 objects. A longer one is caught by
/// the landmark ([`WalkState::landmark`]), within about twice its length.
pub const CURSOR_MEMORY: usize = 1000;

/// What a walk remembers between pages; small, and JSON through serde.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[serde(default)]
pub struct WalkState {
    /// Pages checked so far.
    pub pages: u32,
    /// `created` of the last item seen that had one.
    pub last_created: Option<i64>,
    /// The cursors pages were fetched after, oldest first; at most [`CURSOR_MEMORY`].
    pub recent_cursors: Vec<String>,
    /// The cursor of the last page whose number is a power of two. A cycle of any length
    /// comes back to it once the gap between two such pages outgrows the cycle (Brent's
    /// cycle detection), so no cycle pages forever.
    pub landmark: Option<String>,
}

/// One walk through one list, page by page.
#[derive(Clone, Debug)]
pub struct Walk {
    label: String,
    newest_first: bool,
    lenient_ids: bool,
    pages: u32,
    last_created: Option<i64>,
    recent: VecDeque<String>,
    landmark: Option<String>,
}

impl Walk {
    /// A walk from the start; `label` names the list in errors (`customer`,
    /// `line_item of in_123`).
    pub fn new(label: impl Into<String>) -> Walk {
        Walk::resume(label, WalkState::default(), false)
    }

    /// Also check that `created` never goes up from one page to the next, as in Stripe's
    /// top-level lists (newest first). Equal values are fine: many objects share a second.
    pub fn newest_first(self) -> Walk {
        Walk {
            newest_first: true,
            ..self
        }
    }

    /// Items without an id are the caller's to skip (the Events API's catch-up records the
    /// rest); only the last item of a page that has more must have one: it is the cursor.
    pub fn lenient_ids(self) -> Walk {
        Walk {
            lenient_ids: true,
            ..self
        }
    }

    /// Continues a walk from what [`Walk::state`] returned.
    pub fn resume(label: impl Into<String>, state: WalkState, newest_first: bool) -> Walk {
        let mut recent = VecDeque::from(state.recent_cursors);
        while recent.len() > CURSOR_MEMORY {
            recent.pop_front();
        }
        Walk {
            label: label.into(),
            newest_first,
            lenient_ids: false,
            pages: state.pages,
            last_created: state.last_created,
            recent,
            landmark: state.landmark,
        }
    }

    /// What to keep to go on with this walk later ([`Walk::resume`]).
    pub fn state(&self) -> WalkState {
        WalkState {
            pages: self.pages,
            last_created: self.last_created,
            recent_cursors: self.recent.iter().cloned().collect(),
            landmark: self.landmark.clone(),
        }
    }

    /// Pages checked so far.
    pub fn pages(&self) -> u32 {
        self.pages
    }

    /// Checks `page` (fetched after `after`) and returns the cursor of the next page, or None
    /// when the list is complete. Call it once for every page fetched. After an error the
    /// walk is unchanged and has no next page: the list cannot be trusted.
    ///
    /// The error names no request yet: pass it through `Client::list_error`, which adds the
    /// method and path and scrubs the key from the ids it quotes, as for every other error.
    pub fn advance(
        &mut self,
        after: Option<&str>,
        page: &Page,
    ) -> Result<Option<String>, ApiError> {
        let wrong = |what: String| Err(self.contradiction(after, page, what));
        let cursor_missing = page.has_more && page.last_id.is_none();
        if let Some(at) = page
            .first_missing_id
            .filter(|_| !self.lenient_ids || cursor_missing)
        {
            let (n, count) = (page.ids_missing, page.count);
            return wrong(match n {
                0 | 1 => format!("data[{at}] of its {count} items has no id (a non-empty string)"),
                n => format!(
                    "{n} of its {count} items have no id (a non-empty string), the first data[{at}]"
                ),
            });
        }
        if page.has_more && page.count == 0 {
            return wrong("has_more is true but data is empty".into());
        }
        if let (true, Some(before), Some(first)) =
            (self.newest_first, self.last_created, page.first_created)
        {
            if first > before {
                return wrong(format!(
                    "created goes up from {before} on the page before to {first}, \
                     in a list sorted newest first"
                ));
            }
        }
        let next = match (&page.last_id, page.has_more) {
            (Some(id), true) => Some(id.clone()),
            _ => None,
        };
        if let Some(id) = &next {
            if after == Some(id.as_str()) {
                return wrong(format!(
                    "has_more is true but its last id is {id} again: the cursor does not move"
                ));
            }
            if self.recent.contains(id) || self.landmark.as_ref() == Some(id) {
                return wrong(format!(
                    "its last id {id} was a cursor earlier in this walk: the list goes round \
                     in a cycle"
                ));
            }
        }
        self.remember(after, page);
        Ok(next)
    }

    fn remember(&mut self, after: Option<&str>, page: &Page) {
        self.pages = self.pages.saturating_add(1);
        self.last_created = page.last_created.or(self.last_created);
        if let Some(cursor) = after {
            if self.recent.len() == CURSOR_MEMORY {
                self.recent.pop_front();
            }
            self.recent.push_back(cursor.to_owned());
            if self.pages.is_power_of_two() {
                self.landmark = Some(cursor.to_owned());
            }
        }
    }

    fn contradiction(&self, after: Option<&str>, page: &Page, what: String) -> ApiError {
        let from = after.map_or("from the start".to_owned(), |c| format!("after {c}"));
        let message = format!(
            "{} list, page {} (fetched {from}): {what}",
            self.label,
            self.pages + 1
        );
        let mut e = ApiError::new(ErrorKind::Contradiction, None, message);
        e.request_id = page.request_id.clone();
        e.attempts = 1;
        e
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A page of items `(id, created)`.
    fn page(items: &[(&str, i64)], has_more: bool) -> Page {
        Page {
            has_more,
            count: items.len(),
            last_id: items.last().map(|(id, _)| id.to_string()),
            first_created: items.first().map(|(_, c)| *c),
            last_created: items.last().map(|(_, c)| *c),
            request_id: Some("req_page".into()),
            ..Page::default()
        }
    }

    fn contradiction(r: Result<Option<String>, ApiError>) -> String {
        let e = r.unwrap_err();
        assert_eq!(e.kind, ErrorKind::Contradiction);
        assert_eq!(e.request_id.as_deref(), Some("req_page"));
        assert!(e.to_string().starts_with("contradictory list page"), "{e}");
        e.message
    }

    #[test]
    fn a_walk_through_three_pages_with_equal_seconds_at_the_boundaries() {
        let mut w = Walk::new("customer").newest_first();
        let p1 = page(&[("c", 30), ("b", 20)], true);
        assert_eq!(w.advance(None, &p1).unwrap().as_deref(), Some("b"));
        // The next page starts in the same second the last one ended.
        let p2 = page(&[("a", 20), ("z", 20)], true);
        assert_eq!(w.advance(Some("b"), &p2).unwrap().as_deref(), Some("z"));
        let p3 = page(&[("y", 20), ("x", 10)], false);
        assert_eq!(w.advance(Some("z"), &p3).unwrap(), None);
        assert_eq!(w.pages(), 3);
        assert_eq!(
            w.state(),
            WalkState {
                pages: 3,
                last_created: Some(10),
                recent_cursors: vec!["b".into(), "z".into()],
                landmark: Some("b".into()),
            }
        );
        // An empty list is complete at once.
        assert_eq!(
            Walk::new("x").advance(None, &page(&[], false)).unwrap(),
            None
        );
    }

    #[test]
    fn has_more_with_no_data() {
        let m =
            contradiction(Walk::new("line_item of in_1").advance(Some("il_9"), &page(&[], true)));
        assert_eq!(
            m,
            "line_item of in_1 list, page 1 (fetched after il_9): has_more is true but data is empty"
        );
    }

    #[test]
    fn items_without_a_string_id() {
        let mut p = page(&[("a", 1), ("", 1), ("", 1), ("d", 1)], false);
        (p.first_missing_id, p.ids_missing) = (Some(1), 2);
        let m = contradiction(Walk::new("price").advance(None, &p));
        assert_eq!(
            m,
            "price list, page 1 (fetched from the start): 2 of its 4 items have no id \
             (a non-empty string), the first data[1]"
        );
        (p.first_missing_id, p.ids_missing) = (Some(3), 1);
        let m = contradiction(Walk::new("price").advance(None, &p));
        assert!(
            m.ends_with("data[3] of its 4 items has no id (a non-empty string)"),
            "{m}"
        );
    }

    #[test]
    fn a_lenient_walk_only_needs_the_cursor() {
        let mut p = page(&[("a", 1), ("", 1), ("d", 1)], true);
        (p.first_missing_id, p.ids_missing) = (Some(1), 1);
        let mut w = Walk::new("event").lenient_ids();
        assert_eq!(w.advance(None, &p).unwrap().as_deref(), Some("d"));
        // Without its last id a page that has more has no cursor.
        let mut p = page(&[("e", 1), ("", 1)], true);
        (p.first_missing_id, p.ids_missing, p.last_id) = (Some(1), 1, None);
        let m = contradiction(w.advance(Some("d"), &p));
        assert!(m.contains("data[1]"), "{m}");
    }

    #[test]
    fn a_cursor_that_does_not_move() {
        let mut w = Walk::new("customer");
        w.advance(None, &page(&[("a", 1), ("b", 1)], true)).unwrap();
        let m = contradiction(w.advance(Some("b"), &page(&[("b", 1)], true)));
        assert_eq!(
            m,
            "customer list, page 2 (fetched after b): has_more is true but its last id is b \
             again: the cursor does not move"
        );
        // The same page as the last one is fine: nothing follows it.
        assert_eq!(
            w.advance(Some("b"), &page(&[("b", 1)], false)).unwrap(),
            None
        );
    }

    #[test]
    fn a_cycle() {
        let mut w = Walk::new("customer");
        assert_eq!(
            w.advance(None, &page(&[("a", 1)], true))
                .unwrap()
                .as_deref(),
            Some("a")
        );
        assert_eq!(
            w.advance(Some("a"), &page(&[("b", 1)], true))
                .unwrap()
                .as_deref(),
            Some("b")
        );
        let before = w.state();
        let m = contradiction(w.advance(Some("b"), &page(&[("a", 1)], true)));
        assert_eq!(
            m,
            "customer list, page 3 (fetched after b): its last id a was a cursor earlier in \
             this walk: the list goes round in a cycle"
        );
        assert_eq!(w.state(), before);
    }

    #[test]
    fn created_going_up_in_a_newest_first_list() {
        let mut w = Walk::new("charge").newest_first();
        w.advance(None, &page(&[("b", 50), ("a", 40)], true))
            .unwrap();
        let m = contradiction(w.advance(Some("a"), &page(&[("z", 41), ("y", 1)], false)));
        assert!(
            m.ends_with(
                "created goes up from 40 on the page before to 41, in a list sorted newest first"
            ),
            "{m}"
        );
        // Without newest_first (a nested list, in its own order) the same pages pass.
        let mut w = Walk::new("line_item");
        w.advance(None, &page(&[("b", 50), ("a", 40)], true))
            .unwrap();
        assert_eq!(
            w.advance(Some("a"), &page(&[("z", 41)], false)).unwrap(),
            None
        );
        // Items without `created` leave nothing to compare.
        let mut w = Walk::new("country_spec").newest_first();
        let mut p = page(&[("us", 0)], true);
        (p.first_created, p.last_created) = (None, None);
        w.advance(None, &p).unwrap();
        assert_eq!(w.state().last_created, None);
    }

    #[test]
    fn resuming_from_json_still_sees_the_cycle() {
        let mut w = Walk::new("event").newest_first();
        w.advance(None, &page(&[("evt_3", 30)], true)).unwrap();
        w.advance(Some("evt_3"), &page(&[("evt_2", 20)], true))
            .unwrap();
        let json = serde_json::to_string(&w.state()).unwrap();
        assert_eq!(
            json,
            r#"{"pages":2,"last_created":20,"recent_cursors":["evt_3"],"landmark":"evt_3"}"#
        );
        // The next transaction.
        let state: WalkState = serde_json::from_str(&json).unwrap();
        let mut w = Walk::resume("event", state, true);
        assert_eq!(w.pages(), 2);
        w.advance(Some("evt_2"), &page(&[("evt_1", 20)], true))
            .unwrap();
        let m = contradiction(w.advance(Some("evt_1"), &page(&[("evt_3", 10)], true)));
        assert!(
            m.starts_with("event list, page 4 (fetched after evt_1): its last id evt_3"),
            "{m}"
        );
        // And the order check: created 25 after a page that ended at 20.
        let state: WalkState = serde_json::from_str(&json).unwrap();
        let mut w = Walk::resume("event", state, true);
        let m = contradiction(w.advance(Some("evt_2"), &page(&[("evt_9", 25)], false)));
        assert!(m.contains("created goes up from 20"), "{m}");
        // A state from before a field existed still reads.
        let old: WalkState = serde_json::from_str(r#"{"pages":7}"#).unwrap();
        assert_eq!(old.pages, 7);
    }

    #[test]
    fn a_cycle_longer_than_the_memory_still_ends() {
        let cycle = CURSOR_MEMORY * 3 / 2;
        let id = |n: usize| format!("o{}", n % cycle);
        let mut w = Walk::new("customer");
        let mut after = None;
        for n in 0.. {
            match w.advance(after.as_deref(), &page(&[(&id(n), 0)], true)) {
                Ok(next) => after = next,
                Err(e) => {
                    assert!(e.message.contains("goes round in a cycle"), "{e}");
                    // Page 2048 (after the cursor of page 2047, which the loop returned at
                    // n = 2046) is the first landmark followed by more than a cycle's pages
                    // before the next one: that cursor comes back one cycle later.
                    assert_eq!(n, 2046 + cycle);
                    break;
                }
            }
            assert!(n < 4 * cycle, "no end");
        }
    }

    #[test]
    fn cursor_memory_is_bounded() {
        let id = |n: usize| format!("o{n}");
        let mut w = Walk::new("invoice");
        let mut after = None;
        for n in 0..CURSOR_MEMORY + 5 {
            after = w
                .advance(after.as_deref(), &page(&[(&id(n), 0)], true))
                .unwrap();
        }
        let state = w.state();
        assert_eq!(state.recent_cursors.len(), CURSOR_MEMORY);
        assert_eq!(state.recent_cursors[0], id(4));
        assert_eq!(state.recent_cursors.last(), Some(&id(CURSOR_MEMORY + 3)));
        // A cursor still remembered comes round: a cycle.
        let last = after.unwrap();
        let mut again = w.clone();
        contradiction(again.advance(Some(&last), &page(&[(&id(4), 0)], true)));
        // One forgotten is not seen at once.
        assert_eq!(
            w.advance(Some(&last), &page(&[(&id(3), 0)], true)).unwrap(),
            Some(id(3))
        );
        // A longer state (from elsewhere) is cut to the newest cursors.
        let long = WalkState {
            recent_cursors: (0..CURSOR_MEMORY + 10).map(id).collect(),
            ..WalkState::default()
        };
        let w = Walk::resume("invoice", long, false);
        assert_eq!(w.state().recent_cursors.len(), CURSOR_MEMORY);
        assert_eq!(w.state().recent_cursors[0], id(10));
    }
}
