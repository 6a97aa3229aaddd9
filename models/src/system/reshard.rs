//! Resharding: the share of a database's rows that move between two
//! layouts, sampled from the base model's workloads.

use sim_core::RngStream;

use super::model::Model;

/// The fraction of sampled rows of database `db` whose shard differs
/// between `base` and `candidate` (any two layouts: see the module docs),
/// or `None` when either model lacks the database or a sampled row lacks
/// the key a layout routes by.
pub fn moved_fraction(
    base: &Model,
    candidate: &Model,
    db: &str,
    samples: usize,
    seed: u64,
) -> Option<f64> {
    let b = base.databases.iter().find(|d| d.name == db)?;
    let c = candidate.databases.iter().find(|d| d.name == db)?;
    let b_key = &base.keys[b.shard_key];
    let c_key = &candidate.keys[c.shard_key];
    let weights: Vec<f64> = base
        .workloads
        .iter()
        .map(|w| w.profile.expected_arrivals(base.duration.0))
        .collect();
    let total: f64 = weights.iter().sum();
    if total <= 0.0 || samples == 0 {
        return None;
    }
    let mut pick = RngStream::new(seed, &format!("sharding/{db}/pick"));
    let mut gens: Vec<Vec<_>> = base
        .workloads
        .iter()
        .map(|w| {
            w.keys
                .iter()
                .map(|(id, _, g)| {
                    let name = base.keys[*id].clone();
                    let rng = RngStream::new(seed, &format!("sharding/{db}/{}/{name}", w.name));
                    (name, g.clone(), rng)
                })
                .collect()
        })
        .collect();
    let mut moved = 0usize;
    for _ in 0..samples {
        let mut u = pick.unit() * total;
        let mut wi = weights.len() - 1;
        for (i, w) in weights.iter().enumerate() {
            if u < *w {
                wi = i;
                break;
            }
            u -= w;
        }
        let mut bv = None;
        let mut cv = None;
        for (name, g, rng) in &mut gens[wi] {
            // Rows are spread over the base run's duration.
            let now = pick.below(base.duration.0.max(1));
            let v = g.sample(rng, now);
            if name == b_key {
                bv = Some(v);
            }
            if name == c_key {
                cv = Some(v);
            }
        }
        if b.router.route(bv?) != c.router.route(cv?) {
            moved += 1;
        }
    }
    Some(moved as f64 / samples as f64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::system::compile::load;

    fn model(shards: u32, strategy: &str, key: &str) -> Model {
        let text = format!(
            r#"{{"name": "s", "duration": "10s",
                "workloads": [{{"name": "w", "target": "app", "rate": [{{"rps": 10}}], "mix": {{"get": 1}},
                               "keys": {{"user": {{"uniform": {{"n": 1000000}}}}, "tenant": {{"uniform": {{"n": 100}}}}}}}}],
                "services": [{{"name": "app", "replicas": 1, "concurrency": 1, "queue_capacity": 10,
                              "endpoints": {{"get": [{{"read": {{"db": "d"}}}}]}}}}],
                "databases": [{{"name": "d", "shards": {shards}, "shard_key": "{key}", "strategy": "{strategy}",
                               "connections": 1, "read_time": "1ms", "write_time": "1ms"}}]}}"#
        );
        load("s.json", &text, &[]).unwrap().1
    }

    #[test]
    fn modulo_n_to_n_plus_one_moves_n_over_n_plus_one() {
        let base = model(8, "hash", "user");
        let cand = model(9, "hash", "user");
        let f = moved_fraction(&base, &cand, "d", 100_000, 1).unwrap();
        // Binomial sd at n = 1e5: 0.001; allow 5 sd.
        assert!((f - 8.0 / 9.0).abs() < 0.005, "{f}");
    }

    #[test]
    fn identical_layouts_move_nothing_and_range_splits_move_predictably() {
        let base = model(4, "range", "user");
        assert_eq!(moved_fraction(&base, &base, "d", 10_000, 1), Some(0.0));
        // Even ranges 4 -> 8 shards over [0, 1e6): a value keeps its shard
        // only if floor(8v/n) == floor(4v/n), i.e. in [0, n/8): 1/8 stays.
        let cand = model(8, "range", "user");
        let f = moved_fraction(&base, &cand, "d", 100_000, 1).unwrap();
        assert!((f - 7.0 / 8.0).abs() < 0.005, "{f}");
    }

    #[test]
    fn consistent_strategies_move_only_the_new_shards_keys() {
        for strategy in ["jump", "ring"] {
            let base = model(8, strategy, "user");
            let cand = model(9, strategy, "user");
            let f = moved_fraction(&base, &cand, "d", 100_000, 1).unwrap();
            let exact = base.databases[0]
                .router
                .expected_moved(&cand.databases[0].router)
                .unwrap();
            // Binomial sd at n = 1e5: 0.001; allow 5 sd.
            assert!((f - exact).abs() < 0.005, "{strategy}: {f} vs {exact}");
        }
        // Across strategies: hash -> jump keeps a key where both agree,
        // about 1/8 of the time for independent-looking functions.
        let f = moved_fraction(
            &model(8, "hash", "user"),
            &model(8, "jump", "user"),
            "d",
            50_000,
            1,
        );
        assert!((f.unwrap() - 7.0 / 8.0).abs() < 0.01, "{f:?}");
    }

    #[test]
    fn changing_the_shard_key_moves_almost_everything() {
        let base = model(8, "hash", "user");
        let cand = model(8, "hash", "tenant");
        let f = moved_fraction(&base, &cand, "d", 50_000, 1).unwrap();
        // Independent keys: a row stays with probability 1/8.
        assert!((f - 7.0 / 8.0).abs() < 0.01, "{f}");
    }
}
