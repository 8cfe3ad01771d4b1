//! Licensed C-SSRS item wording, loaded from the file named by `measures.cssrs_text_file`
//! (instruments.md §1, §5: kat ships construct labels only; a clinic with a licence loads
//! the wording at deployment).
//!
//! The file is TOML: one key per item label of the screener (`"1"` … `"6"`, `"6b"`) with
//! its text, and optionally `stem` for the instructions read before the items:
//!
//! ```toml
//! stem = "…"
//! "1" = "…"
//! "6b" = "…"
//! ```
//!
//! Items left out keep their construct label. An unknown label or an empty text is
//! refused at start-up, naming the key, so a typo cannot silently leave a label in place.

use anyhow::{Context, Result, anyhow};
use kat_core::instruments::{Instrument, ItemTextOverrides};
use std::path::Path;

const KEY: &str = "measures.cssrs_text_file";

/// Reads and parses the file; an empty `path` means no licensed text.
pub fn load_cssrs(path: &str) -> Result<ItemTextOverrides> {
    if path.trim().is_empty() {
        return Ok(ItemTextOverrides::new());
    }
    let path = Path::new(path.trim());
    let raw = std::fs::read_to_string(path).with_context(|| format!("{KEY}: cannot read {}", path.display()))?;
    parse_cssrs(&raw).with_context(|| format!("{KEY}: {}", path.display()))
}

/// Parses the file's text (see the module documentation for the format).
pub fn parse_cssrs(raw: &str) -> Result<ItemTextOverrides> {
    let table: toml::Table = toml::from_str(raw).map_err(|e| anyhow!("not valid TOML: {e}"))?;
    let mut overrides = ItemTextOverrides::new();
    for (key, value) in &table {
        let text = value.as_str().ok_or_else(|| anyhow!("`{key}`: must be a text (a quoted string)"))?;
        let set = if key == "stem" {
            overrides.set_stem(Instrument::CssrsScreener, text)
        } else {
            overrides.set_item(Instrument::CssrsScreener, key, text)
        };
        set.map_err(|e| anyhow!("`{key}`: {e} (items are 1, 2, 3, 4, 5, 6, 6b; or stem)"))?;
    }
    Ok(overrides)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text_of(o: &ItemTextOverrides, label: &str) -> String {
        let def = Instrument::CssrsScreener.def();
        o.item_text(Instrument::CssrsScreener, &def.items[def.index_of(label).unwrap()]).to_string()
    }

    #[test]
    fn items_and_stem_replace_the_construct_labels() {
        let o = parse_cssrs("stem = \"Licensed stem\"\n\"1\" = \"Licensed one\"\n\"6b\" = \"  Licensed six b \"\n")
            .unwrap();
        assert_eq!(text_of(&o, "1"), "Licensed one");
        assert_eq!(text_of(&o, "6b"), "Licensed six b");
        assert_eq!(o.stem(Instrument::CssrsScreener), Some("Licensed stem"));
        let label = Instrument::CssrsScreener.def().items[1].text.as_str();
        assert_eq!(text_of(&o, "2"), label, "an item left out keeps its construct label");
    }

    #[test]
    fn unknown_labels_empty_texts_and_bad_files_are_refused_by_key() {
        let e = parse_cssrs("\"7\" = \"x\"").unwrap_err().to_string();
        assert!(e.contains("`7`") && e.contains("no item 7"), "{e}");
        let e = parse_cssrs("\"3\" = \"   \"").unwrap_err().to_string();
        assert!(e.contains("`3`") && e.contains("empty"), "{e}");
        let e = parse_cssrs("\"4\" = 4").unwrap_err().to_string();
        assert!(e.contains("`4`"), "{e}");
        assert!(parse_cssrs("\"1\" = ").is_err());
        let e = load_cssrs("/nonexistent/cssrs.toml").unwrap_err().to_string();
        assert!(e.contains(KEY), "{e}");
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("cssrs.toml");
        std::fs::write(&file, "\"6c\" = \"x\"").unwrap();
        let e = format!("{:#}", load_cssrs(file.to_str().unwrap()).unwrap_err());
        assert!(e.contains(KEY) && e.contains("`6c`"), "{e}");
        assert_eq!(load_cssrs("").unwrap(), ItemTextOverrides::new());
    }
}
