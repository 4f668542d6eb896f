//! The HTML of the reports: one self-contained page (inline CSS and SVG, no
//! scripts, nothing fetched), so it opens from a USB stick or an email.

use crate::charts::Chart;

/// Escapes text for HTML.
pub fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

const CSS: &str = r#"
body { font-family: "DejaVu Sans", "Segoe UI", Arial, sans-serif; margin: 0; color: #1d1d1d; background: #f6f6f4; }
header { background: #005eb8; color: white; padding: 18px 32px; }
header h1 { margin: 0 0 4px 0; font-size: 26px; }
header p { margin: 2px 0; }
main { padding: 8px 32px 40px 32px; max-width: 1200px; }
section { background: white; border: 1px solid #d8dde0; border-radius: 4px; padding: 10px 20px 16px 20px; margin: 16px 0; }
h2 { color: #003087; font-size: 20px; }
.cards { display: flex; flex-wrap: wrap; gap: 12px; }
.card { border-left: 6px solid #005eb8; background: #eef4fa; padding: 8px 14px; min-width: 150px; }
.card b { display: block; font-size: 24px; }
.reading { font-size: 17px; margin: 12px 0; }
table { border-collapse: collapse; font-size: 13px; margin: 8px 0; }
th, td { border: 1px solid #d8dde0; padding: 3px 8px; text-align: right; }
th { background: #eef4fa; }
td.text, th.text { text-align: left; }
figure.chart { margin: 12px 0; }
figure.chart svg { max-width: 100%; height: auto; border: 1px solid #eee; }
figcaption { font-size: 13px; color: #444; }
.note { font-size: 13px; color: #444; }
.warning { border-left: 6px solid #d5281b; background: #fbe9e7; padding: 8px 14px; }
"#;

/// A whole page.
pub fn page(title: &str, subtitle: &[String], sections: &[String]) -> String {
    let mut s =
        String::from("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    s.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    s.push_str(&format!(
        "<title>{}</title>\n<style>{CSS}</style>\n</head>\n<body>\n",
        esc(title)
    ));
    s.push_str(&format!("<header>\n<h1>{}</h1>\n", esc(title)));
    for line in subtitle {
        s.push_str(&format!("<p>{}</p>\n", esc(line)));
    }
    s.push_str("</header>\n<main>\n");
    for sec in sections {
        s.push_str(sec);
        s.push('\n');
    }
    s.push_str("</main>\n</body>\n</html>\n");
    s
}

/// A titled section around body HTML.
pub fn section(title: &str, body: &str) -> String {
    format!("<section>\n<h2>{}</h2>\n{body}\n</section>", esc(title))
}

/// Headline number cards: (label, value).
pub fn cards(items: &[(String, String)]) -> String {
    let mut s = String::from("<div class=\"cards\">");
    for (label, value) in items {
        s.push_str(&format!(
            "<div class=\"card\"><b>{}</b>{}</div>",
            esc(value),
            esc(label)
        ));
    }
    s.push_str("</div>");
    s
}

/// A table; columns listed in `text_columns` are left-aligned.
pub fn table(headers: &[&str], rows: &[Vec<String>], text_columns: &[usize]) -> String {
    let class = |i: usize| {
        if text_columns.contains(&i) {
            " class=\"text\""
        } else {
            ""
        }
    };
    let mut s = String::from("<table>\n<thead><tr>");
    for (i, h) in headers.iter().enumerate() {
        s.push_str(&format!("<th{}>{}</th>", class(i), esc(h)));
    }
    s.push_str("</tr></thead>\n<tbody>\n");
    for r in rows {
        s.push_str("<tr>");
        for (i, c) in r.iter().enumerate() {
            s.push_str(&format!("<td{}>{}</td>", class(i), esc(c)));
        }
        s.push_str("</tr>\n");
    }
    s.push_str("</tbody>\n</table>");
    s
}

/// A chart inline as SVG, with a caption linking the PNG beside the report.
pub fn figure(chart: &Chart, svg: &str, png: &str, caption: &str) -> String {
    // The SVG's XML prolog is not allowed inside HTML.
    let svg = svg
        .trim_start()
        .strip_prefix("<?xml version=\"1.0\" encoding=\"UTF-8\"?>")
        .unwrap_or(svg);
    format!(
        "<figure class=\"chart\" data-points=\"{}\">\n{svg}\n<figcaption>{} <a href=\"{}\">PNG for slides</a></figcaption>\n</figure>",
        chart.data_points(),
        esc(caption),
        esc(png)
    )
}

/// A paragraph of plain text.
pub fn para(text: &str, class: &str) -> String {
    if class.is_empty() {
        format!("<p>{}</p>", esc(text))
    } else {
        format!("<p class=\"{class}\">{}</p>", esc(text))
    }
}
