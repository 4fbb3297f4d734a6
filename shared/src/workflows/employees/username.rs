//! Usernames for TimeTrack users the sync creates.
//!
//! Rule: the e-mail's local part (anything after a `+` sub-address dropped), lowercased, transliterated
//! to ASCII (ä→ae, ö→oe, ü→ue, ß→ss, é→e, ...), reduced to `[a-z0-9._-]`, with separators not leading,
//! trailing or doubled. If nothing is left, `first.last` from the names is tried, then `user`.
//! Collisions are resolved deterministically against the existing usernames (compared lowercase):
//! `j.mueller`, `j.mueller2`, `j.mueller3`, ...
use std::collections::HashSet;

/// Derives a free username for a new TimeTrack user.
pub(crate) fn derive_username(
    email: &str,
    first_name: &str,
    last_name: &str,
    existing: &HashSet<String>,
) -> String {
    let local = email
        .trim()
        .rsplit_once('@')
        .map_or(email.trim(), |(l, _)| l);
    let local = local.split('+').next().unwrap_or(local);
    let mut base = sanitise(local);
    if base.is_empty() {
        base = sanitise(&format!("{}.{}", first_name.trim(), last_name.trim()));
    }
    if base.is_empty() {
        base = "user".to_string();
    }
    let taken: HashSet<String> = existing.iter().map(|u| u.to_lowercase()).collect();
    if !taken.contains(&base) {
        return base;
    }
    // `taken` is finite, so a free number is always found.
    let mut n: u64 = 2;
    loop {
        let candidate = format!("{base}{n}");
        if !taken.contains(&candidate) {
            return candidate;
        }
        n += 1;
    }
}

/// Lowercases, transliterates and keeps `[a-z0-9._-]`, with no leading, trailing or repeated separator.
pub(crate) fn sanitise(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    for c in raw.chars().flat_map(char::to_lowercase) {
        match c {
            'a'..='z' | '0'..='9' => out.push(c),
            '.' | '_' | '-' => {
                if !out.is_empty() && !out.ends_with(['.', '_', '-']) {
                    out.push(c);
                }
            }
            ' ' => {
                if !out.is_empty() && !out.ends_with(['.', '_', '-']) {
                    out.push('.');
                }
            }
            other => out.push_str(transliterate(other)),
        }
    }
    out.trim_end_matches(['.', '_', '-']).to_string()
}

/// ASCII for the letters German-speaking (and neighbouring) companies' e-mails and names carry.
/// Unknown characters are dropped.
fn transliterate(c: char) -> &'static str {
    match c {
        'ä' | 'æ' => "ae",
        'ö' | 'ø' | 'œ' => "oe",
        'ü' => "ue",
        'ß' => "ss",
        'à' | 'á' | 'â' | 'ã' | 'å' | 'ā' | 'ă' | 'ą' => "a",
        'ç' | 'ć' | 'č' | 'ĉ' => "c",
        'ď' | 'đ' | 'ð' => "d",
        'è' | 'é' | 'ê' | 'ë' | 'ē' | 'ė' | 'ę' | 'ě' => "e",
        'ğ' | 'ĝ' | 'ģ' => "g",
        'ì' | 'í' | 'î' | 'ï' | 'ī' | 'į' | 'ı' => "i",
        'ł' | 'ľ' | 'ĺ' | 'ļ' => "l",
        'ñ' | 'ń' | 'ň' | 'ņ' => "n",
        'ò' | 'ó' | 'ô' | 'õ' | 'ō' | 'ő' => "o",
        'ř' | 'ŕ' => "r",
        'ś' | 'š' | 'ş' | 'ș' => "s",
        'ť' | 'ţ' | 'ț' => "t",
        'ù' | 'ú' | 'û' | 'ū' | 'ů' | 'ű' | 'ų' => "u",
        'ý' | 'ÿ' => "y",
        'ź' | 'ż' | 'ž' => "z",
        'þ' => "th",
        _ => "",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(list: &[&str]) -> HashSet<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn umlauts_and_accents_are_transliterated() {
        let none = HashSet::new();
        assert_eq!(
            derive_username("Jürgen.Müller@firma.de", "", "", &none),
            "juergen.mueller"
        );
        assert_eq!(derive_username("groß.öz@x.de", "", "", &none), "gross.oez");
        assert_eq!(
            derive_username("rené.françois@x.fr", "", "", &none),
            "rene.francois"
        );
        assert_eq!(
            derive_username("łukasz.żak@x.pl", "", "", &none),
            "lukasz.zak"
        );
    }

    #[test]
    fn only_safe_characters_survive() {
        let none = HashSet::new();
        assert_eq!(
            derive_username("j..o'neil+hr@x.de", "", "", &none),
            "j.oneil"
        );
        assert_eq!(
            derive_username("-_weird__name-@x.de", "", "", &none),
            "weird_name"
        );
        assert_eq!(sanitise("Anna Lena"), "anna.lena");
    }

    #[test]
    fn empty_local_part_falls_back_to_names_then_user() {
        let none = HashSet::new();
        assert_eq!(
            derive_username("漢字@x.jp", "Özlem", "Şahin", &none),
            "oezlem.sahin"
        );
        assert_eq!(derive_username("漢字@x.jp", "", "", &none), "user");
    }

    #[test]
    fn collisions_get_the_next_free_number() {
        let existing = names(&["j.mueller", "J.Mueller2", "j.mueller4"]);
        assert_eq!(
            derive_username("j.mueller@a.de", "", "", &existing),
            "j.mueller3"
        );
        assert_eq!(
            derive_username("J.Müller@b.de", "", "", &existing),
            "j.mueller3"
        );
        let existing = names(&["anna"]);
        assert_eq!(derive_username("anna@a.de", "", "", &existing), "anna2");
        assert_eq!(derive_username("bob@a.de", "", "", &existing), "bob");
    }
}
