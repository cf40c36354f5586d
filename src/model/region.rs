//! AWS region names, checked before anything is asked of a region (flags, config, `:region`).

/// Region names look like `eu-west-1`, `us-gov-west-1`, `cn-north-1`.
pub fn valid_region(name: &str) -> bool {
    let lower = |p: &&str| !p.is_empty() && p.chars().all(|c| c.is_ascii_lowercase());
    let parts: Vec<&str> = name.split('-').collect();
    let [first, middle @ .., last] = parts.as_slice() else {
        return false;
    };
    first.len() == 2
        && lower(first)
        && !middle.is_empty()
        && middle.iter().all(lower)
        && !last.is_empty()
        && last.chars().all(|c| c.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn region_names_are_checked() {
        for ok in ["eu-west-3", "us-gov-west-1", "ap-southeast-4", "cn-north-1"] {
            assert!(valid_region(ok), "{ok}");
        }
        for bad in [
            "Paris",
            "eu-west",
            "eu--1",
            "EU-WEST-1",
            "",
            "eu-west-1a",
            "e-west-1",
        ] {
            assert!(!valid_region(bad), "{bad}");
        }
    }
}
