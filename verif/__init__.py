"""cocotb benches, stream drivers, scoreboards and the pytest glue that builds and runs them."""
