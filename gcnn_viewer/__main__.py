from gcnn_viewer.cli import main

raise SystemExit(main())
