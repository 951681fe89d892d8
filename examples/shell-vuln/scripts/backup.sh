#!/bin/sh
# A deliberately sloppy backup script: the sample target of the shell-lint workflow.
# Every problem in it is planted; do not reuse this code.

src=$1
dest=/var/backups/$(date +%F)

cd $dest
count=`ls $src | wc -l`
cat "$src/manifest.txt" | grep -v '^#' > files.txt
echo "backing up $count files from $src"
tar czf backup.tgz -T files.txt
