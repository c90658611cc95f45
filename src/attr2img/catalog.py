"""The paper's models, named once: every dataset trains all four; Table 1 evaluates the
generators, Table 2 the conditional ones. (No heavy imports: the tables, the report and the
Snakefile read these lists too.)"""

MODELS = ("vae", "cvae", "discvae", "regressor")
GENERATORS = ("vae", "cvae", "discvae")
CONDITIONAL = ("cvae", "discvae")
LABELS = {"vae": "VAE", "cvae": "CVAE", "discvae": "disCVAE", "regressor": "attribute regressor"}
