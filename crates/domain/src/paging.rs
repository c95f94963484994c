//! Page sizes (SPEC R-MSG-3, R-SEC-3): every list has a default and a maximum.

use crate::values::ValueError;

/// A page size within its list's bounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageLimit(u32);

impl PageLimit {
    /// Messages: default 50, at most 200 (R-MSG-3). Notifications use the same bounds.
    pub const MESSAGES: (u32, u32) = (50, 200);
    /// Users, rooms, members and the like: default 20, at most 100.
    pub const DIRECTORY: (u32, u32) = (20, 100);
    /// Search results: default 20, at most 50 (R-MSG-11).
    pub const SEARCH: (u32, u32) = (20, 50);

    /// `None` takes the default; 0 or more than the maximum is refused.
    pub fn parse(input: Option<u32>, (default, max): (u32, u32)) -> Result<Self, ValueError> {
        match input {
            None => Ok(Self(default)),
            Some(0) => Err(ValueError("must be at least 1".into())),
            Some(n) if n > max => Err(ValueError(format!("must be at most {max}"))),
            Some(n) => Ok(Self(n)),
        }
    }

    pub fn get(self) -> u32 {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// R-MSG-3: history pages default to 50 and hold at most 200.
    #[test]
    fn r_msg_3_page_sizes() {
        assert_eq!(PageLimit::parse(None, PageLimit::MESSAGES).map(PageLimit::get), Ok(50));
        assert_eq!(PageLimit::parse(Some(200), PageLimit::MESSAGES).map(PageLimit::get), Ok(200));
        assert!(PageLimit::parse(Some(201), PageLimit::MESSAGES).is_err());
        assert!(PageLimit::parse(Some(0), PageLimit::MESSAGES).is_err());
        assert_eq!(PageLimit::parse(None, PageLimit::DIRECTORY).map(PageLimit::get), Ok(20));
        assert!(PageLimit::parse(Some(101), PageLimit::DIRECTORY).is_err());
    }
}
