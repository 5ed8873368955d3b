"""Knowledge: records, import and export, review data."""
