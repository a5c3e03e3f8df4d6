// Telemetry: TensorBoard event files, animated GIFs, CSV.
