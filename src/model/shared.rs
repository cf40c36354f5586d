//! [`SharedStr`]: the text of a task's fields, shared between the copies of a task instead of
//! copied. A 60,000-task pane's answer, the engine's frozen fleet and the demo's simulation
//! would otherwise each hold their own few dozen allocations per task (2 KiB a task, 130 MiB
//! for the answer alone); cloning a task now copies pointers. The words ECS repeats across
//! every row (statuses, health, launch types) are not allocated at all.

use std::borrow::Borrow;
use std::fmt;
use std::ops::Deref;

use arcstr::ArcStr;

/// An immutable, reference-counted string: cloning it costs a counter increment, and the
/// status words below cost nothing.
#[derive(Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SharedStr(ArcStr);

/// Values ECS repeats on every task and container: answered with a static string (no
/// allocation) whichever source built the task.
const VOCABULARY: &[ArcStr] = &[
    arcstr::literal!("PROVISIONING"),
    arcstr::literal!("PENDING"),
    arcstr::literal!("ACTIVATING"),
    arcstr::literal!("RUNNING"),
    arcstr::literal!("DEACTIVATING"),
    arcstr::literal!("STOPPING"),
    arcstr::literal!("DEPROVISIONING"),
    arcstr::literal!("STOPPED"),
    arcstr::literal!("HEALTHY"),
    arcstr::literal!("UNHEALTHY"),
    arcstr::literal!("UNKNOWN"),
    arcstr::literal!("EC2"),
    arcstr::literal!("FARGATE"),
    arcstr::literal!("EXTERNAL"),
    arcstr::literal!("TaskFailedToStart"),
    arcstr::literal!("EssentialContainerExited"),
    arcstr::literal!("UserInitiated"),
    arcstr::literal!("ServiceSchedulerInitiated"),
    arcstr::literal!("SpotInterruption"),
    arcstr::literal!("TerminationNotice"),
];

impl SharedStr {
    pub fn new(s: &str) -> Self {
        match VOCABULARY.iter().find(|w| w.as_str() == s) {
            Some(word) => SharedStr(word.clone()),
            None => SharedStr(ArcStr::from(s)),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether `self` and `other` are the same allocation (tests of sharing).
    pub fn shares(&self, other: &SharedStr) -> bool {
        ArcStr::ptr_eq(&self.0, &other.0)
    }
}

impl Deref for SharedStr {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for SharedStr {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl Borrow<str> for SharedStr {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl From<&str> for SharedStr {
    fn from(s: &str) -> Self {
        SharedStr::new(s)
    }
}

impl From<&String> for SharedStr {
    fn from(s: &String) -> Self {
        SharedStr::new(s)
    }
}

impl From<String> for SharedStr {
    fn from(s: String) -> Self {
        SharedStr::new(&s)
    }
}

impl From<SharedStr> for String {
    fn from(s: SharedStr) -> Self {
        s.as_str().to_owned()
    }
}

impl PartialEq<str> for SharedStr {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for SharedStr {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl PartialEq<String> for SharedStr {
    fn eq(&self, other: &String) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<SharedStr> for str {
    fn eq(&self, other: &SharedStr) -> bool {
        self == other.as_str()
    }
}

impl PartialEq<SharedStr> for &str {
    fn eq(&self, other: &SharedStr) -> bool {
        *self == other.as_str()
    }
}

impl PartialEq<SharedStr> for String {
    fn eq(&self, other: &SharedStr) -> bool {
        self == other.as_str()
    }
}

impl fmt::Debug for SharedStr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl fmt::Display for SharedStr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self.as_str(), f)
    }
}

impl serde::Serialize for SharedStr {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clones_share_the_text() {
        let arn = SharedStr::from("arn:aws:ecs:eu-west-1:1:task/prod/abc".to_string());
        let copy = arn.clone();
        assert!(copy.shares(&arn));
        assert_eq!(copy, "arn:aws:ecs:eu-west-1:1:task/prod/abc");
    }

    #[test]
    fn status_words_are_never_allocated() {
        // Two separately built "RUNNING"s are the one static string.
        let a = SharedStr::from(String::from("RUNNING"));
        let b = SharedStr::from("RUNNING");
        assert!(a.shares(&b));
        assert!(!SharedStr::from("web").shares(&SharedStr::from("web")));
    }

    #[test]
    fn compares_and_prints_as_its_text() {
        let s = SharedStr::from("HEALTHY");
        let owned = String::from("HEALTHY");
        assert_eq!(s, "HEALTHY");
        assert_eq!("HEALTHY", s);
        assert_eq!(s, owned);
        assert_eq!(format!("{s} {s:?}"), "HEALTHY \"HEALTHY\"");
        assert_eq!(serde_json::to_string(&s).unwrap(), "\"HEALTHY\"");
        assert_eq!(SharedStr::default(), "");
        let (a, b) = (SharedStr::from("a"), SharedStr::from("b"));
        assert!(a < b);
    }
}
