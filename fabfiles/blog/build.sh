#!/bin/sh
# build.sh SRC OUT: a very small static site generator for the blog
# recipe. Each SRC/*.md post becomes OUT/<name>.html ("# Title" on its
# first line, blank lines between paragraphs) and OUT/index.html lists
# them. The output depends only on the posts, so rebuilding an unchanged
# blog gives identical files and a deploy sends nothing.
set -eu
src=$1 out=$2
tmp="$out.tmp"
rm -rf "$tmp"
mkdir -p "$tmp"
index="$tmp/index.html"
printf '<!doctype html>\n<meta charset="utf-8">\n<title>Blog</title>\n<h1>Blog</h1>\n<ul>\n' > "$index"
for f in "$src"/*.md; do
  name=$(basename "$f" .md)
  title=$(sed -n '1s/^# //p' "$f")
  {
    printf '<!doctype html>\n<meta charset="utf-8">\n<title>%s</title>\n<h1>%s</h1>\n<p>\n' "$title" "$title"
    sed -e '1d' -e 's/&/\&amp;/g' -e 's/</\&lt;/g' -e 's/^$/<\/p>\n<p>/' "$f"
    printf '</p>\n<p><a href="index.html">All posts</a></p>\n'
  } > "$tmp/$name.html"
  printf '<li><a href="%s.html">%s</a></li>\n' "$name" "$title" >> "$index"
done
printf '</ul>\n' >> "$index"
rm -rf "$out"
mv "$tmp" "$out"
