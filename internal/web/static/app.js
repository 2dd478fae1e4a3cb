// syncwatch page script
"use strict";
