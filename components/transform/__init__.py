"""Transform: `preprocessing_fn`, the z-scoring, imputation and vocabularies used in training
and, inside the exported model, at serving."""
