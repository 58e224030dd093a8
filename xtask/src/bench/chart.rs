//! `target/bench/ratios.svg`: a bar per benchmark, from 1 to its POSIX-X/Linux ratio on a log
//! scale (right of 1, green: POSIX-X is better; left, red: Linux is better). Drawn with plotters'
//! SVG backend; the x axis is log2 of the ratio, labelled with the ratio (0.25, 0.5, 1, 2, ...).
//!
//! And a sweep's line chart ([`lines`]): a line per kernel (and CPU count) over a log x axis.

use std::path::Path;

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::util::{Error, Result};

/// Draws `bars` (benchmark name, ratio), first one on top, into the SVG file `path`.
pub fn ratios(path: &Path, title: &str, bars: &[(String, f64)]) -> Result<()> {
    draw(path, title, bars).map_err(|e| Error::new(format!("drawing {}: {e}", path.display())))
}

fn draw(
    path: &Path,
    title: &str,
    bars: &[(String, f64)],
) -> std::result::Result<(), Box<dyn std::error::Error>> {
    let n = bars.len();
    let height = 120 + 28 * n.max(1) as u32;
    let root = SVGBackend::new(path, (900, height)).into_drawing_area();
    root.fill(&WHITE)?;

    // log2 of the ratios; the x range holds them all and 0 (ratio 1), whole powers of two at
    // the ends, with room for the value labels.
    let logs: Vec<f64> = bars.iter().map(|(_, r)| r.log2()).collect();
    let lo = logs.iter().fold(0.0f64, |a, &b| a.min(b)).floor() - 0.25;
    let hi = logs.iter().fold(0.0f64, |a, &b| a.max(b)).ceil() + 0.25;
    let powers = (hi.floor() - lo.ceil()) as usize + 1;

    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 18))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(130)
        .build_cartesian_2d(lo..hi, (0..n.saturating_sub(1)).into_segmented())?;

    // Row i of `bars` is drawn at y = n - 1 - i, so the first benchmark is on top.
    let name_at = |v: &SegmentValue<usize>| match v {
        SegmentValue::CenterOf(y) if *y < n => bars[n - 1 - *y].0.clone(),
        _ => String::new(),
    };
    chart
        .configure_mesh()
        .disable_y_mesh()
        .light_line_style(TRANSPARENT)
        .y_labels(n)
        .y_label_formatter(&name_at)
        .x_labels(powers)
        .x_label_formatter(&|x| format!("{}", 2f64.powf(x.round())))
        .x_desc("ratio (> 1: POSIX-X is better; log scale)")
        .draw()?;

    chart.draw_series(bars.iter().zip(&logs).enumerate().map(|(i, ((_, r), &x))| {
        let y = n - 1 - i;
        let color = if *r >= 1.0 { GREEN.mix(0.7) } else { RED.mix(0.7) };
        let mut bar = Rectangle::new(
            [(0.0, SegmentValue::Exact(y)), (x, SegmentValue::Exact(y + 1))],
            color.filled(),
        );
        bar.set_margin(4, 4, 0, 0);
        bar
    }))?;
    let label_style =
        TextStyle::from(("sans-serif", 13).into_font()).pos(Pos::new(HPos::Left, VPos::Center));
    chart.draw_series(bars.iter().zip(&logs).enumerate().map(|(i, ((_, r), &x))| {
        let y = n - 1 - i;
        Text::new(
            format!("{r:.2}"),
            (x.max(0.0) + 0.05, SegmentValue::CenterOf(y)),
            label_style.clone(),
        )
    }))?;
    chart.draw_series(std::iter::once(PathElement::new(
        vec![(0.0, SegmentValue::Exact(0)), (0.0, SegmentValue::Exact(n))],
        BLACK.stroke_width(1),
    )))?;
    root.present()?;
    Ok(())
}

/// One line of a sweep's chart: its legend and its points (x, y), x ascending.
pub struct Line {
    pub label: String,
    pub points: Vec<(f64, f64)>,
}

/// Draws `lines` into the SVG file `path`: log x axis (an x of 0 is drawn at 1, and `x_desc`
/// should say so), linear y axis from 0.
pub fn lines(path: &Path, title: &str, x_desc: &str, y_desc: &str, lines: &[Line]) -> Result<()> {
    draw_lines(path, title, x_desc, y_desc, lines)
        .map_err(|e| Error::new(format!("drawing {}: {e}", path.display())))
}

/// A line's colour: POSIX-X's in blues, Linux's in reds, the host's in green.
fn line_color(label: &str, i: usize) -> RGBColor {
    const BLUES: [RGBColor; 3] =
        [RGBColor(31, 87, 180), RGBColor(90, 160, 230), RGBColor(20, 40, 90)];
    const REDS: [RGBColor; 3] =
        [RGBColor(200, 40, 40), RGBColor(240, 140, 90), RGBColor(110, 20, 20)];
    if label.starts_with("POSIX-X") {
        BLUES[i % 3]
    } else if label.starts_with("Linux") {
        REDS[i % 3]
    } else {
        RGBColor(40, 150, 60)
    }
}

fn draw_lines(
    path: &Path,
    title: &str,
    x_desc: &str,
    y_desc: &str,
    lines: &[Line],
) -> std::result::Result<(), Box<dyn std::error::Error>> {
    let shown = |x: f64| x.max(1.0);
    let xs = lines.iter().flat_map(|l| l.points.iter().map(|p| shown(p.0)));
    let (x_lo, x_hi) = xs.fold((f64::MAX, f64::MIN), |(lo, hi), x| (lo.min(x), hi.max(x)));
    let (x_lo, x_hi) = if x_lo > x_hi { (1.0, 10.0) } else { (x_lo, x_hi.max(x_lo * 2.0)) };
    let y_hi = lines.iter().flat_map(|l| l.points.iter().map(|p| p.1)).fold(0.0f64, f64::max);
    let y_hi = if y_hi > 0.0 { y_hi * 1.1 } else { 1.0 };

    let root = SVGBackend::new(path, (800, 500)).into_drawing_area();
    root.fill(&WHITE)?;
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 18))
        .margin(12)
        .x_label_area_size(45)
        .y_label_area_size(70)
        .build_cartesian_2d((x_lo / 1.2..x_hi * 1.2).log_scale(), 0.0..y_hi)?;
    chart
        .configure_mesh()
        .x_desc(x_desc)
        .y_desc(y_desc)
        .x_label_formatter(&|x| {
            let r = x.round();
            if (x - r).abs() < 1e-6 * x.max(1.0) {
                format!("{r}")
            } else {
                format!("{x:.1}")
            }
        })
        .draw()?;
    // Same-system lines get shades of one colour, in order.
    let mut seen: Vec<&str> = Vec::new();
    for line in lines {
        let system = line.label.split_whitespace().next().unwrap_or("");
        let nth = seen.iter().filter(|s| **s == system).count();
        seen.push(system);
        let color = line_color(&line.label, nth);
        let points: Vec<(f64, f64)> = line.points.iter().map(|&(x, y)| (shown(x), y)).collect();
        chart
            .draw_series(std::iter::once(PathElement::new(points.clone(), color.stroke_width(2))))?
            .label(line.label.clone())
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2))
            });
        chart.draw_series(points.iter().map(|&p| Circle::new(p, 3, color.filled())))?;
    }
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .position(SeriesLabelPosition::UpperLeft)
        .draw()?;
    root.present()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_an_svg_with_every_name() {
        let path =
            std::env::temp_dir().join(format!("xtask-chart-test-{}.svg", std::process::id()));
        let bars = vec![
            ("pipe_lat".to_string(), 2.5),
            ("tcp_bw".to_string(), 0.4),
            ("null_syscall".to_string(), 1.0),
        ];
        ratios(&path, "test", &bars).unwrap();
        let svg = std::fs::read_to_string(&path).unwrap();
        std::fs::remove_file(&path).unwrap();
        assert!(svg.starts_with("<svg"));
        for (name, _) in &bars {
            assert!(svg.contains(name.as_str()), "{name} missing");
        }
        assert!(svg.contains("2.50") && svg.contains("0.40"));
    }

    #[test]
    fn a_sweep_chart_has_a_line_per_kernel() {
        let path =
            std::env::temp_dir().join(format!("xtask-lines-test-{}.svg", std::process::id()));
        let lines = vec![
            Line { label: "POSIX-X".into(), points: vec![(0.0, 5.0), (10.0, 6.0), (1000.0, 9.0)] },
            Line { label: "Linux".into(), points: vec![(0.0, 7.0), (10.0, 7.0), (1000.0, 7.5)] },
        ];
        super::lines(&path, "tcp_idle", "idle connections (log scale; 0 drawn at 1)", "µs", &lines)
            .unwrap();
        let svg = std::fs::read_to_string(&path).unwrap();
        std::fs::remove_file(&path).unwrap();
        assert!(svg.starts_with("<svg"));
        for text in ["POSIX-X", "Linux", "tcp_idle", "idle connections"] {
            assert!(svg.contains(text), "{text} missing");
        }
        assert!(svg.contains("<polyline") || svg.contains("<path"));
    }
}
