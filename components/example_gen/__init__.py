"""ExampleGen: the user's CSV checked before TFX reads it, and image data (class folders,
npz, IDX) read by our ImageExampleGen."""
