#!/bin/sh
# The MinIO of deploy/compose.minio.yml made ready for Errand, by its one-shot `minio-setup`
# service at each `docker compose up`: the bucket of STORAGE_URL (s3://bucket/prefix), and the
# apps' user S3_ACCESS_KEY_ID with S3_SECRET_ACCESS_KEY, allowed to list, read, write and
# delete in that bucket and nothing else (no other bucket, no admin call). Each step may run
# again: the bucket is kept, the user's secret set again, the policy replaced (and left
# attached). mc finds MinIO and the root user's password in MC_HOST_store.
set -eu

: "${MC_HOST_store:?}" "${STORAGE_URL:?}" "${S3_ACCESS_KEY_ID:?}" "${S3_SECRET_ACCESS_KEY:?}"
bucket=${STORAGE_URL#s3://}
bucket=${bucket%%/*}
policy=errand-images

cat >/tmp/policy.json <<JSON
{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Effect": "Allow",
      "Action": ["s3:ListBucket", "s3:GetBucketLocation"],
      "Resource": ["arn:aws:s3:::$bucket"]
    },
    {
      "Effect": "Allow",
      "Action": ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
      "Resource": ["arn:aws:s3:::$bucket/*"]
    }
  ]
}
JSON

mc mb --ignore-existing "store/$bucket"
mc admin user add store "$S3_ACCESS_KEY_ID" "$S3_SECRET_ACCESS_KEY"
mc admin policy create store "$policy" /tmp/policy.json
# A second attach fails with "The specified policy change is already in effect": that is done.
if ! answer=$(mc admin policy attach store "$policy" --user "$S3_ACCESS_KEY_ID" 2>&1); then
  case $answer in
    *"already in effect"*) ;;
    *)
      echo "$answer" >&2
      exit 1
      ;;
  esac
fi
echo "minio-setup: bucket $bucket ready for $S3_ACCESS_KEY_ID"
