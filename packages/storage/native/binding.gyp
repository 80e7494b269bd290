{
  "targets": [
    {
      "target_name": "blockship_discard",
      "sources": ["discard.cc"],
      "cflags_cc": ["-std=c++17", "-Wall", "-Wextra"]
    }
  ]
}
