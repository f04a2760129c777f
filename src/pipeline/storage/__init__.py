"""Object storage: the S3 seam (`store`), every key of the bucket layout (`keys`), the embedded credentials.

Nothing is imported here, so reading keys (as DAG files do) does not load boto3.
"""
