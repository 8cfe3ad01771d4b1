//! Pages of a list: which page a caller asked for (parsed, bounded) and what one page
//! holds. Every clinic-wide list (patient search, worklists, timeline) is shown a page
//! at a time, so the work and the audit entry of one view do not grow with the clinic.

/// A page asked for: 1-based page number and page size, both within bounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    page: u32,
    size: u32,
}

/// The most pages a caller may skip to (keeps `offset` well inside an `i64`, and a
/// request for page 10⁹ from scanning).
pub const MAX_PAGE: u32 = 100_000;

impl PageRequest {
    /// Page `page` (1 when absent or 0) of `size` items (`default` when absent; at least 1,
    /// at most `max`). Out-of-range values are clamped, never refused: a page number
    /// comes from a link or a script and the list is the same whatever it says.
    pub fn new(page: Option<u32>, size: Option<u32>, default: u32, max: u32) -> Self {
        let max = max.max(1);
        Self { page: page.unwrap_or(1).clamp(1, MAX_PAGE), size: size.unwrap_or(default).clamp(1, max) }
    }

    /// The first page of `size` items.
    pub fn first(size: u32) -> Self {
        Self::new(None, Some(size), size, size)
    }

    pub fn page(self) -> u32 {
        self.page
    }

    pub fn size(self) -> u32 {
        self.size
    }

    /// How many items come before this page.
    pub fn offset(self) -> u64 {
        u64::from(self.page - 1) * u64::from(self.size)
    }

    /// Cuts this page out of a whole list already in order.
    pub fn slice<T>(self, mut all: Vec<T>) -> Page<T> {
        let total = all.len();
        let start = usize::try_from(self.offset()).unwrap_or(usize::MAX).min(total);
        let end = start.saturating_add(self.size as usize).min(total);
        all.truncate(end);
        let items = all.split_off(start);
        Page { items, page: self.page, size: self.size, has_next: end < total }
    }

    /// The page from a query that fetched one item more than `size` (`LIMIT size + 1
    /// OFFSET offset`): the extra item only says that there is a next page.
    pub fn from_probe<T>(self, mut fetched: Vec<T>) -> Page<T> {
        let has_next = fetched.len() > self.size as usize;
        fetched.truncate(self.size as usize);
        Page { items: fetched, page: self.page, size: self.size, has_next }
    }
}

/// One page of a list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// 1-based.
    pub page: u32,
    pub size: u32,
    /// Whether a later page has items.
    pub has_next: bool,
}

impl<T> Page<T> {
    pub fn has_previous(&self) -> bool {
        self.page > 1
    }

    /// The same page with each item mapped.
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page {
            items: self.items.into_iter().map(f).collect(),
            page: self.page,
            size: self.size,
            has_next: self.has_next,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds_are_clamped() {
        let r = PageRequest::new(None, None, 25, 100);
        assert_eq!((r.page(), r.size(), r.offset()), (1, 25, 0));
        let r = PageRequest::new(Some(0), Some(0), 25, 100);
        assert_eq!((r.page(), r.size()), (1, 1));
        let r = PageRequest::new(Some(3), Some(101), 25, 100);
        assert_eq!((r.page(), r.size(), r.offset()), (3, 100, 200));
        let r = PageRequest::new(Some(u32::MAX), Some(100), 25, 100);
        assert_eq!(r.page(), MAX_PAGE);
        let r = PageRequest::new(Some(2), Some(100), 25, 100);
        assert_eq!(r.size(), 100, "the maximum itself is allowed");
    }

    #[test]
    fn slice_and_probe_say_whether_there_is_a_next_page() {
        let all: Vec<u32> = (1..=7).collect();
        let p = PageRequest::new(Some(1), Some(3), 3, 3).slice(all.clone());
        assert_eq!((p.items.clone(), p.has_next, p.has_previous()), (vec![1, 2, 3], true, false));
        let p = PageRequest::new(Some(3), Some(3), 3, 3).slice(all.clone());
        assert_eq!((p.items.clone(), p.has_next, p.has_previous()), (vec![7], false, true));
        // Exactly full: no next page.
        let p = PageRequest::new(Some(2), Some(3), 3, 3).slice((1..=6).collect::<Vec<u32>>());
        assert_eq!((p.items, p.has_next), (vec![4, 5, 6], false));
        let p = PageRequest::new(Some(9), Some(3), 3, 3).slice(all);
        assert!(p.items.is_empty() && !p.has_next);
        let r = PageRequest::new(None, Some(3), 3, 3);
        assert!(r.from_probe(vec![1, 2, 3, 4]).has_next);
        let p = r.from_probe(vec![1, 2, 3]);
        assert_eq!((p.items, p.has_next), (vec![1, 2, 3], false));
    }
}
