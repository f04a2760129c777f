"""news-pipeline: fetch, normalise, enrich, store and digest news."""
