// ViZDoom: typed Swift API over the ViZDoom engine.
